#!/usr/bin/env bats
# pp-check and recovery as a user meets them: clean stores, torn tails, flipped bytes,
# and the derived files (control block, indexes) deleted or damaged.

load helpers

NINE='{"id":"1000-0","body":{"n":0}}
{"id":"1000-1","body":{"n":1}}
{"id":"1000-2","body":{"n":2}}
{"id":"2000-3","body":{"n":3}}
{"id":"2000-4","body":{"n":4}}
{"id":"2000-5","body":{"n":5}}
{"id":"3000-6","body":{"n":6}}
{"id":"3000-7","body":{"n":7}}
{"id":"3000-8","body":{"n":8}}'

# fill_nine TOPIC: the nine logs of $NINE.
fill_nine() {
    local ts n=0
    for ts in 1000 2000 3000; do
        at "$ts" pp-commit -q -t "$1" "{\"n\":$n}" "{\"n\":$((n + 1))}" "{\"n\":$((n + 2))}"
        n=$((n + 3))
    done
}

# fill_many TOPIC: 3000 logs of ~100 bytes, 1000 each at 1000, 2000 and 3000 ms, so that
# the sparse index has many entries; body {"i":SEQ,"pad":...}.
fill_many() {
    local ts
    for ts in 1000 2000 3000; do
        seq $((ts - 1000)) $((ts - 1)) |
            awk '{ printf "{\"i\":%d,\"pad\":\"%s\"}\n", $1, "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp" }' |
            at "$ts" pp-commit -q -t "$1"
    done
}

# The reads compared before and after damage to derived files; fails if any read fails.
sample_reads() {
    local tmp="$BATS_TEST_TMPDIR/sample.tmp"
    pp-range "$1" || return
    pp-length "$1" || return
    pp-range "$1" -s :1500 -l 3 --format id || return
    pp-range "$1" -s 2000 -l 2 --format id || return
    pp-range "$1" -r -s :2000 -l 2 --format id || return
    pp-range "$1" -s 1500 -e 2500 --format id >"$tmp" || return
    sed -n '1p;$p' "$tmp"
    pp-range "$1" -s 3000-2999 --format body || return
    pp-range "$1" -s :2990 -e :2000 -r -l 2 --format id || return
    pp-range "$1" -s :2999 -e :2999 -x --format id || return
}

@test "pp-check: a clean store is clean" {
    fill_nine t
    ok pp-commit -q '{"topic":"a","body":1}' '{"topic":"b","body":2}'
    ok pp-check
    ok pp-check --repair
    ok pp-check
    expect_output "$NINE" pp-range t
}

@test "pp-check: a store that does not exist yet is a clean empty store" {
    export PIPEPROC_LOCATION="$BATS_TEST_TMPDIR/never-written"
    ok pp-check
    ok pp-check --repair
    must_fail 1 invalid_topic pp-length t
}

@test "pp-check: an empty store directory is clean" {
    mkdir -p "$PIPEPROC_LOCATION"
    ok pp-check
}

@test "garbage after the last committed record is ignored, and --repair cuts it" {
    fill_nine t
    seg=$(last_segment t)
    size=$(file_size "$seg")
    for i in $(seq 1 40); do printf 'garbage\000\377\177{"n":99}\n'; done >>"$seg"
    expect_output "$NINE" pp-range t
    expect_output 9 pp-length t
    expect_output '3000-8' pp-range t -s :8 --format id
    expect_output '3000-8' pp-range t -r -l 1 --format id
    ok pp-check --repair
    ok pp-check
    expect_output "$NINE" pp-range t
    (($(file_size "$seg") <= size)) || pp_fail "--repair left $(file_size "$seg") bytes in $seg, the committed data ends at $size"
}

@test "a torn copy of a real record after the committed head is ignored" {
    fill_nine t
    # A twin store holds one more log; its last record, cut in half, is a realistic torn write.
    twin="$BATS_TEST_TMPDIR/twin"
    PIPEPROC_LOCATION=$twin fill_nine t
    twin_seg=$(PIPEPROC_LOCATION=$twin last_segment t)
    before=$(file_size "$twin_seg")
    ok env PIPEPROC_LOCATION="$twin" PIPEPROC_NOW_MS=4000 pp-commit -q -t t '{"n":9,"pad":"tttttttttttttttttttttttttttttttttttttttt"}'
    twin_seg=$(PIPEPROC_LOCATION=$twin last_segment t)
    after=$(file_size "$twin_seg")
    ((after > before)) || pp_fail "the twin's segment did not grow ($before -> $after)"
    seg=$(last_segment t)
    tail -c +$((before + 1)) "$twin_seg" | head -c $(((after - before) / 2)) >>"$seg"
    expect_output "$NINE" pp-range t
    expect_output 9 pp-length t
    ok pp-check --repair
    ok pp-check
    expect_output "$NINE" pp-range t
}

@test "zeros after the committed head (an extended file) are ignored" {
    fill_nine t
    head -c 8192 /dev/zero >>"$(last_segment t)"
    expect_output "$NINE" pp-range t
    ok pp-check --repair
    ok pp-check
    expect_output "$NINE" pp-range t
}

@test "a writer after a torn tail continues cleanly" {
    fill_nine t
    for i in $(seq 1 40); do printf 'torn\000\377'; done >>"$(last_segment t)"
    expect_output "4000-9
4000-10" at 4000 pp-commit -t t '{"n":9}' '{"n":10}'
    expect_output "$NINE
{\"id\":\"4000-9\",\"body\":{\"n\":9}}
{\"id\":\"4000-10\",\"body\":{\"n\":10}}" pp-range t
    ok pp-check
}

@test "a flipped byte in the middle of a record body is corrupt_record" {
    at 1000 pp-commit -q -t t '{"m":"first-AAAAAAAAAAAAAAAAAAAA"}' '{"m":"middle-MMMMMMMMMMMMMMMMMMMM"}' \
        '{"m":"last-ZZZZZZZZZZZZZZZZZZZZ"}'
    seg=$(last_segment t)
    off=$(grep -boa 'middle-MMMMMMMMMM' "$seg" | head -n 1 | cut -d: -f1)
    [[ -n $off ]] || pp_fail "the body is not stored verbatim in $seg: cannot aim the flip"
    # 'M' -> 'N': still valid JSON, so only the checksum can tell.
    printf 'N' | dd of="$seg" bs=1 seek=$((off + 12)) conv=notrunc status=none
    must_fail 74 corrupt_record pp-range t
    must_fail 74 corrupt_record pp-range t --format body
    must_fail 74 pp-check
    [[ "$output$stderr" == *"$(basename "$seg")"* ]] ||
        pp_fail "pp-check does not name $(basename "$seg"):" "$output" "$stderr"
}

@test "a flipped byte in an earlier record with more logs after it is corrupt_record" {
    bodies=()
    for i in $(seq 0 49); do bodies+=("{\"i\":$i,\"m\":\"body-$i-QQQQQQQQQQQQ\"}"); done
    at 1000 pp-commit -q -t t "${bodies[@]}"
    seg=$(last_segment t)
    off=$(grep -boa 'body-10-QQQQ' "$seg" | head -n 1 | cut -d: -f1)
    [[ -n $off ]] || pp_fail "the body is not stored verbatim in $seg: cannot aim the flip"
    printf 'R' | dd of="$seg" bs=1 seek=$((off + 9)) conv=notrunc status=none
    must_fail 74 corrupt_record pp-range t
    must_fail 74 pp-check
    [[ "$output$stderr" == *"$(basename "$seg")"* ]] ||
        pp_fail "pp-check does not name $(basename "$seg"):" "$output" "$stderr"
    # Contract (pp-check): --repair "never drop[s] a valid committed log". Logs 11..49 are
    # valid: either --repair refuses (exit 74) or the topic still holds them afterwards.
    # Moving them out of the topic (e.g. to a lost+found file) drops them from the topic.
    status=0
    pp-check --repair >"$BATS_TEST_TMPDIR/repair.out" 2>&1 || status=$?
    if ((status == 0)); then
        n=$(pp-length t)
        ((n >= 49)) || pp_fail "pp-check --repair exited 0 but the topic keeps only $n of 50 logs:" \
            "$(cat "$BATS_TEST_TMPDIR/repair.out")"
    else
        expect_eq 74 "$status" "pp-check --repair exit code"
    fi
}

@test "deleting the control block loses nothing: it is rebuilt from the files" {
    fill_nine t
    ok pp-commit -q '{"topic":"other","body":1}'
    [[ -e $PIPEPROC_LOCATION/control ]] || pp_fail "no $PIPEPROC_LOCATION/control" "$(ls -la "$PIPEPROC_LOCATION")"
    rm -rf "$PIPEPROC_LOCATION/control"
    expect_output "$NINE" pp-range t
    expect_output 9 pp-length t
    expect_output 1 pp-length other
    expect_output "3000-6
3000-7
3000-8" pp-range t -s 2500 --format id
    # Sequences continue, and the last timestamp is remembered (the clock here is behind).
    expect_output "3000-9" at 500 pp-commit -t t '{"n":9}'
    expect_output "4000-10" at 4000 pp-commit -t t '{"n":10}'
    expect_output 11 pp-length t
    ok pp-check
}

@test "deleting the control block before a commit: the writer rebuilds it" {
    fill_nine t
    rm -rf "$PIPEPROC_LOCATION/control"
    expect_output "3000-9" at 3000 pp-commit -t t '{"n":9}'
    expect_output "$NINE
{\"id\":\"3000-9\",\"body\":{\"n\":9}}" pp-range t
}

@test "a control block truncated to nothing is rebuilt" {
    fill_nine t
    [[ -f $PIPEPROC_LOCATION/control ]] || skip "control is not a plain file"
    : >"$PIPEPROC_LOCATION/control"
    expect_output "$NINE" pp-range t
    expect_output "3000-9" at 3000 pp-commit -t t '{"n":9}'
    expect_output 10 pp-length t
}

@test "deleting the index files: reads still work and give the same answers" {
    fill_many t
    sample_reads t >"$BATS_TEST_TMPDIR/before"
    expect_output "2000-1500
2000-1501
2000-1502" pp-range t -s :1500 -l 3 --format id
    mapfile -t idx < <(ls "$PIPEPROC_LOCATION/topics/t/"*.idx 2>/dev/null)
    ((${#idx[@]} > 0)) || pp_fail "no index file in $PIPEPROC_LOCATION/topics/t" "$(ls -la "$PIPEPROC_LOCATION/topics/t")"
    rm -f "${idx[@]}"
    ok sample_reads t
    diff -u "$BATS_TEST_TMPDIR/before" <(printf '%s\n' "$output")
    ok pp-check --repair
    ok pp-check
    ok sample_reads t
    diff -u "$BATS_TEST_TMPDIR/before" <(printf '%s\n' "$output")
    expect_output "3001-3000" at 3001 pp-commit -t t '{"i":3000}'
    expect_output 3001 pp-length t
    expect_output "3001-3000" pp-range t -s 3001 --format id
}

@test "damaged index files are rebuilt, not an error" {
    fill_many t
    sample_reads t >"$BATS_TEST_TMPDIR/before"
    mapfile -t idx < <(ls "$PIPEPROC_LOCATION/topics/t/"*.idx 2>/dev/null)
    ((${#idx[@]} > 0)) || pp_fail "no index file in $PIPEPROC_LOCATION/topics/t"
    for f in "${idx[@]}"; do
        size=$(file_size "$f")
        head -c "$size" /dev/urandom >"$f"
    done
    ok sample_reads t
    diff -u "$BATS_TEST_TMPDIR/before" <(printf '%s\n' "$output")
    for f in "${idx[@]}"; do : >"$f"; done
    ok sample_reads t
    diff -u "$BATS_TEST_TMPDIR/before" <(printf '%s\n' "$output")
    ok pp-check --repair
    ok pp-check
}

# fill_segments TOPIC: 2000 logs {"i":SEQ,...} over many small segment files, through the
# writer's test hook PIPEPROC_SEGMENT_BYTES (not part of the contract); skips the test
# when the hook is not honoured.
fill_segments() {
    local k
    for ((k = 0; k < 20; k++)); do
        seq $((k * 100)) $((k * 100 + 99)) | awk '{ printf "{\"i\":%d,\"tag\":\"rec-%d-KKKKKKKKKKKK\"}\n", $1, $1 }' |
            PIPEPROC_SEGMENT_BYTES=4096 at 1000 pp-commit -q -t "$1"
    done
    nseg=$(segments "$1" | wc -l)
    ((nseg >= 3)) || skip "PIPEPROC_SEGMENT_BYTES is not honoured ($nseg segment file)"
}

@test "several segments: a clean store is clean, garbage after the last one is ignored" {
    fill_segments t
    ok pp-check
    pp-range t >"$BATS_TEST_TMPDIR/before"
    seg=$(last_segment t)
    for i in $(seq 1 40); do printf 'garbage\000\377'; done >>"$seg"
    expect_output "$(cat "$BATS_TEST_TMPDIR/before")" pp-range t
    ok pp-check --repair
    ok pp-check
    expect_output "1000-2000" at 1000 env PIPEPROC_SEGMENT_BYTES=4096 pp-commit -t t '{"i":2000}'
    expect_output 2001 pp-length t
}

@test "several segments: a flipped byte in an earlier, sealed segment is corrupt_record" {
    fill_segments t
    mapfile -t segs < <(segments t)
    victim=${segs[1]}
    # The first record tag in the second segment file.
    tag=$(grep -oa 'rec-[0-9]*-KKKK' "$victim" | head -n 1)
    [[ -n $tag ]] || pp_fail "no record body found verbatim in $victim"
    off=$(grep -boa "$tag" "$victim" | head -n 1 | cut -d: -f1)
    printf 'X' | dd of="$victim" bs=1 seek=$((off + ${#tag} - 2)) conv=notrunc status=none
    must_fail 74 corrupt_record pp-range t
    must_fail 74 pp-check
    [[ "$output$stderr" == *"$(basename "$victim")"* ]] ||
        pp_fail "pp-check does not name $(basename "$victim"):" "$output" "$stderr"
    # Logs in later segments stay readable on their own.
    expect_output '{"i":1999,"tag":"rec-1999-KKKKKKKKKKKK"}' pp-range t -s :1999 --format body
}

@test "several segments: deleting every index and the control block loses nothing" {
    fill_segments t
    pp-range t >"$BATS_TEST_TMPDIR/before"
    rm -f "$PIPEPROC_LOCATION/topics/t/"*.idx
    rm -rf "$PIPEPROC_LOCATION/control"
    expect_output "$(cat "$BATS_TEST_TMPDIR/before")" pp-range t
    expect_output '1000-1234' pp-range t -s :1234 -l 1 --format id
    expect_output '1000-1999
1000-1998' pp-range t -r -l 2 --format id
    expect_output 2000 pp-length t
    ok pp-check --repair
    ok pp-check
    expect_output "1000-2000" at 900 env PIPEPROC_SEGMENT_BYTES=4096 pp-commit -t t '{"i":2000}'
}

@test "several segments: the last one cut inside its header is cut away by --repair --cut" {
    fill_segments t
    # A durable commit that opens a segment of its own (its journal record vouches for it).
    at 1000 env PIPEPROC_SEGMENT_BYTES=4096 pp-commit -q -t t '{"i":2000}'
    seg=$(last_segment t)
    base=$(basename "$seg" .log)
    base=$((10#$base))
    truncate -s 7 "$seg"
    rm -f "$PIPEPROC_LOCATION/control"
    must_fail 74 pp-check
    ok pp-check --repair --cut
    ok pp-check
    # Every log before the lost segment stays; new logs continue its sequences.
    expect_output "$base" pp-length t
    expect_output "1000-$((base - 1))" pp-range t -r -l 1 --format id
    expect_output "1000-$base" at 1000 env PIPEPROC_SEGMENT_BYTES=4096 pp-commit -t t '{"i":0}'
}

@test "a damaged log the journal still holds a copy of is written back by --repair" {
    at 1000 pp-commit -q -t t '{"n":0}'
    # Small durable commits: the journal carries their logs (docs/format.md).
    at 1000 pp-commit -q -t t '{"n":1,"tag":"carried-needle-7q"}'
    at 1000 pp-commit -q -t t '{"n":2}'
    seg=$(last_segment t)
    off=$(grep -boa 'carried-needle-7q' "$seg" | head -n 1 | cut -d: -f1)
    [[ -n $off ]] || pp_fail "no record body found verbatim in $seg"
    printf 'Y' | dd of="$seg" bs=1 seek=$((off + 9)) conv=notrunc status=none
    must_fail 74 corrupt_record pp-range t
    must_fail 74 pp-check
    [[ "$output$stderr" == *"differ from the copy the journal holds"* ]] ||
        pp_fail "pp-check does not say the journal holds a copy:" "$output" "$stderr"
    ok pp-check --repair
    ok pp-check
    expect_output '{"n":0}
{"n":1,"tag":"carried-needle-7q"}
{"n":2}' pp-range t --format body
}

@test "several segments: a middle one that lost its logs is cut at the gap by --repair --cut" {
    fill_segments t
    mapfile -t segs < <(segments t)
    victim=${segs[2]}
    base=$(basename "$victim" .log)
    base=$((10#$base))
    next=$(basename "${segs[3]}" .log)
    next=$((10#$next))
    truncate -s 32 "$victim"  # the header alone: its logs end at a record boundary
    must_fail 74 pp-check
    [[ "$output$stderr" == *"starts at sequence $next, expected $base"* ]] ||
        pp_fail "pp-check does not report the gap:" "$output" "$stderr"
    must_fail 74 pp-check --repair
    expect_output 2000 pp-length t
    ok pp-check --repair --cut
    ok pp-check
    expect_output "$base" pp-length t
    expect_output "1000-$((base - 1))" pp-range t -r -l 1 --format id
    # The logs after the gap are kept as log lines, the first one missing naming the file.
    lost="$PIPEPROC_LOCATION/lost+found/t.$base.jsonl"
    [[ -f $lost ]] || pp_fail "no $lost"
    [[ $(wc -l <"$lost") == $((2000 - next)) ]] || pp_fail "$lost holds $(wc -l <"$lost") logs, not $((2000 - next))"
    [[ $(head -n 1 "$lost") == "{\"id\":\"1000-$next\",\"body\":{\"i\":$next,\"tag\":\"rec-$next-KKKKKKKKKKKK\"}}" ]] ||
        pp_fail "first saved log: $(head -n 1 "$lost")"
    expect_output "1000-$base" at 1000 env PIPEPROC_SEGMENT_BYTES=4096 pp-commit -t t '{"i":0}'
}
