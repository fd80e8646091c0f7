#!/usr/bin/env bats
# pp-gc through the tools (CONTRACT.md §6 "pp-gc", §3, §4): which logs go (age, active
# procs, disabled and destroyed procs), --dry-run, --json, what readers and procs see
# afterwards, the disk space given back, a GC killed at random moments, and a GC racing a
# writer and a follower. The clock is fixed with `at MS` (commit timestamps and pp-gc's
# "now"); PIPEPROC_SEGMENT_BYTES=N makes segments roll every N bytes.

load helpers

# commit_at TS TOPIC N FIRST [PER]: N logs {"n":FIRST..} to TOPIC at time TS, in one
# batch or in commits of PER logs (a segment rolls only between commits).
commit_at() {
    local ts=$1 topic=$2 n=$3 first=$4 per=${5:-$3} i
    for ((i = first; i < first + n; i += per)); do
        seq "$i" $((i + per - 1)) | awk '{ printf "{\"n\":%d}\n", $1 }' |
            at "$ts" pp-commit -q --atomic -t "$topic" || return
    done
}

# gc_json WANT MS [ARGS...]: `pp-gc --json ARGS` at time MS prints exactly the lines of
# WANT, one per topic, in any order (the contract does not order topics).
gc_json() {
    local want=$1 ms=$2
    shift 2
    expect_output "$(sort <<<"$want")" sorted at "$ms" pp-gc --json "$@"
}

# sorted CMD...: CMD's stdout sorted; CMD's exit status.
sorted() {
    local rc=0 out
    out=$("$@") || rc=$?
    [[ -z $out ]] || sort <<<"$out"
    return "$rc"
}

# gc_line TOPIC COLLECTED FIRST FREED: the contract's JSON object for one topic.
gc_line() {
    printf '{"topic":"%s","collected":%d,"first":"%s","bytesFreed":%d}' "$1" "$2" "$3" "$4"
}

# ids_from FILE START: FILE holds ids TS-SEQ with SEQ = START, START+1, ... in order.
ids_from() {
    awk -F- -v s="$2" '
        !/^[0-9]+-[0-9]+$/ { printf "line %d is not an id: %s\n", NR, $0; bad = 1; exit }
        $2 != s + NR - 1 { printf "line %d: sequence %s, expected %d\n", NR, $2, s + NR - 1; bad = 1; exit }
        NR > 1 && $1 + 0 < ts { printf "line %d: timestamp %s < previous %s\n", NR, $1, ts; bad = 1; exit }
        { ts = $1 + 0 }
        END { exit bad }
    ' "$1" >&2
}

# topic_bytes TOPIC: the bytes of every file in the topic's directory.
topic_bytes() {
    find "$PIPEPROC_LOCATION/topics/$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'
}

# topic_du TOPIC: du -sb of the topic's directory.
topic_du() {
    du -sb "$PIPEPROC_LOCATION/topics/$1" | cut -f1
}

# first_seq TOPIC: the sequence of the first log pp-range prints ("" for none).
first_seq() {
    pp-range "$1" -l 1 --format id | sed 's/.*-//'
}

# snapshot TOPIC OUT: what a GC could change: the topic's length and logs, the procs, and
# every file of the store (names, sizes, times, contents: journal and control included).
snapshot() {
    {
        pp-length "$1"
        pp-range "$1"
        pp-procs list
        # LOCK is left out: it holds the writers' mutex, which every lock writes.
        (cd "$PIPEPROC_LOCATION" &&
            find . -type f ! -name LOCK -printf '%p %s %TY-%Tm-%Td %TT\n' | sort &&
            find . -type f ! -name LOCK -exec md5sum {} + | sort -k 2)
    } >"$2" 2>&1
}

@test "no procs: logs older than the min prune time go, logs exactly that old stay" {
    for ts in 1000 2000 3000 4000 5000; do commit_at "$ts" t 2 $(((ts / 1000 - 1) * 2)); done
    # now 35000: ages 34000..31000 go; 5000 is exactly 30000 old (not older): it stays.
    gc_json "$(gc_line t 8 5000-8 0)" 35000
    expect_output "2" pp-length t
    expect_output $'{"id":"5000-8","body":{"n":8}}\n{"id":"5000-9","body":{"n":9}}' pp-range t
    # Collected logs are gone for every bound form; the kept ones still answer.
    must_fail 1 sequence_not_found pp-range t -s :0
    must_fail 1 sequence_not_found pp-range t -s :7
    must_fail 1 sequence_not_found pp-range t -e :3
    expect_output "5000-8" pp-range t -s :8 -e :8 --format id
    expect_output "5000-8" pp-range t -s 1000 -l 1 --format id
    expect_output "5000-9" pp-range t -r -l 1 --format id
    # One millisecond later 5000 is older than 30000 ms: it goes too. The topic is empty,
    # so its one segment rolls over and goes: bytesFreed is the size of all its files.
    gc_json "$(gc_line t 2 "" "$(topic_bytes t)")" 35001
    expect_output "0" pp-length t
    expect_output "" pp-range t
    ok pp-check
}

@test "--min-prune-time is respected, default 30000; 0 takes everything older than now" {
    commit_at 1000 t 3 0
    commit_at 2000 t 3 3
    commit_at 3000 t 3 6
    # Default 30000: at 31000 the 1000 logs are exactly 30000 old: nothing goes.
    gc_json "$(gc_line t 0 1000-0 0)" 31000
    expect_output "9" pp-length t
    gc_json "$(gc_line t 0 1000-0 0)" 10000 --min-prune-time 9000
    gc_json "$(gc_line t 3 2000-3 0)" 10000 --min-prune-time 8001
    gc_json "$(gc_line t 0 2000-3 0)" 31000 --min-prune-time 29000
    gc_json "$(gc_line t 3 3000-6 0)" 31000 --min-prune-time 28500
    # Text output, same numbers.
    expect_output "t: collected 0 logs, freed 0 bytes, first kept 3000-6" at 32000 pp-gc
    gc_json "$(gc_line t 0 3000-6 0)" 3000 --min-prune-time 0
    gc_json "$(gc_line t 3 "" "$(topic_bytes t)")" 3001 --min-prune-time 0
    expect_output "t: collected 0 logs, freed 0 bytes, none left" at 3001 pp-gc --min-prune-time 0
    must_fail 2 pp-gc --min-prune-time -1
    must_fail 2 pp-gc --min-prune-time
    must_fail 2 pp-gc --no-such-option
}

@test "active procs: the earliest previous claim limits; no previous claim keeps all; disabled and destroyed procs do not count" {
    commit_at 1000 t 10 0
    commit_at 1000 other 4 0
    # c: one claim, acked: no previous claim yet.
    ok at 2000 pp-proc t -n c
    ok at 2000 pp-ack c
    # a (2 per claim): previousClaimedRange 1000-4..1000-5.
    for _ in 1 2 3; do
        ok at 2000 pp-proc t -n a -c 2
        ok at 2000 pp-ack a
    done
    ok at 2000 pp-proc t -n a -c 2
    # b (1 per claim): previousClaimedRange 1000-2..1000-2, the earliest.
    for _ in 1 2 3; do
        ok at 2000 pp-proc t -n b
        ok at 2000 pp-ack b
    done
    ok at 2000 pp-proc t -n b
    expect_output "1000-4..1000-5" bash -c 'pp-procs inspect a | jq -r .previousClaimedRange'
    expect_output "1000-2..1000-2" bash -c 'pp-procs inspect b | jq -r .previousClaimedRange'
    expect_output "" bash -c 'pp-procs inspect c | jq -j .previousClaimedRange'

    # c keeps the whole topic; `other` has no procs and loses everything old.
    gc_json "$(gc_line other 4 "" "$(topic_bytes other)")"$'\n'"$(gc_line t 0 1000-0 0)" 99000
    # Disabled, c no longer counts: b's previous claim limits.
    ok pp-procs disable c
    gc_json "$(gc_line other 0 "" 0)"$'\n'"$(gc_line t 2 1000-2 0)" 99000
    expect_output "8" pp-length t
    # Not before the min prune time, procs or not.
    ok pp-procs destroy b
    gc_json "$(gc_line other 0 "" 0)"$'\n'"$(gc_line t 0 1000-2 0)" 31000
    # b destroyed: gone from the list, and a limits now.
    expect_output $'a\nc' bash -c 'pp-procs list | jq -r .name'
    must_fail 1 invalid_proc pp-procs inspect b
    gc_json "$(gc_line other 0 "" 0)"$'\n'"$(gc_line t 2 1000-4 0)" 99000
    expect_output "1000-4" pp-range t -l 1 --format id
    # No active proc left (c is disabled): everything old goes.
    ok pp-procs destroy a
    gc_json "$(gc_line other 0 "" 0)"$'\n'"$(gc_line t 6 "" "$(topic_bytes t)")" 99000
    expect_output "0" pp-length t
    ok pp-check
}

@test "a proc positioned before the new start claims from the new start" {
    commit_at 1000 t 4 0
    commit_at 5000 t 4 4
    ok at 6000 pp-proc t -n p
    ok at 6000 pp-ack p
    ok pp-procs disable p
    # p (disabled) is ignored: the 1000 logs go although p has acked only 1000-0.
    gc_json "$(gc_line t 4 5000-4 0)" 34000
    ok pp-procs resume p
    expect_output $'{"id":"5000-4","body":{"n":4}}\n{"id":"5000-5","body":{"n":5}}' at 34000 pp-proc t -n p -c 2
    expect_output "5000-4..5000-5" at 34000 pp-ack p
    # A new proc starting from the start (>) or from a collected sequence starts there too.
    expect_output '{"id":"5000-4","body":{"n":4}}' at 34000 pp-proc t -n q
    expect_output '{"id":"5000-4","body":{"n":4}}' at 34000 pp-proc t -n r -o :1
    expect_output "2" bash -c 'pp-procs inspect p | jq -r .lag'
}

@test "--dry-run changes nothing and reports what the collection then does" {
    export PIPEPROC_SEGMENT_BYTES=300
    for ts in 1000 2000 3000 4000; do commit_at "$ts" t 10 $(((ts / 1000 - 1) * 10)) 2; done
    commit_at 1000 keep 3 0
    ok at 1000 pp-proc keep -n k
    (($(segments t | wc -l) >= 6)) || pp_fail "expected many segments:" "$(segments t)"
    snapshot t "$BATS_TEST_TMPDIR/before"
    bytes_before=$(topic_bytes t)
    du_before=$(topic_du t)

    # At 33500 the logs at 1000, 2000 and 3000 are older than 30000 ms; those at 4000 not.
    ok sorted at 33500 pp-gc --dry-run --json
    dry_json=$output
    ok sorted at 33500 pp-gc --dry-run
    dry_text=$output
    snapshot t "$BATS_TEST_TMPDIR/after"
    diff -u "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after" >&2 || pp_fail "--dry-run changed the store"
    expect_eq "$(gc_line keep 0 1000-0 0)" "$(sed -n 1p <<<"$dry_json")" "dry-run line of keep"
    jq -e '.topic == "t" and .collected == 30 and .first == "4000-30" and .bytesFreed > 0' <<<"$(sed -n 2p <<<"$dry_json")" >/dev/null ||
        pp_fail "unexpected dry-run report: $dry_json"
    grep -Eq '^t: would collect 30 logs, would free [1-9][0-9]* bytes, first kept 4000-30$' <<<"$dry_text" ||
        pp_fail "unexpected dry-run text: $dry_text"

    expect_output "$dry_json" sorted at 33500 pp-gc --json
    freed=$(sed -n 2p <<<"$dry_json" | jq .bytesFreed)
    expect_eq "$freed" $((bytes_before - $(topic_bytes t))) "bytes the files of t shrank by"
    (($(topic_du t) < du_before)) || pp_fail "du -sb did not drop: $du_before -> $(topic_du t)"
    expect_output 10 pp-length t
    expect_output 3 pp-length keep
    # Whole segments only: the segment holding 4000-30 stays, every one before it went.
    pp-range t --format id >"$BATS_TEST_TMPDIR/ids"
    ids_from "$BATS_TEST_TMPDIR/ids" 30 || pp_fail "t does not hold exactly 30..39"
    expect_eq 10 "$(line_count "$BATS_TEST_TMPDIR/ids")" "logs left in t"
    first_base=$(basename "$(segments t | head -n 1)" .log)
    ((10#$first_base <= 30)) || pp_fail "the segment of 4000-30 was deleted: $(segments t)"
    second=$(segments t | sed -n 2p)
    [[ -z $second ]] || ((10#$(basename "$second" .log) > 30)) ||
        pp_fail "a segment wholly before the new start is left: $(segments t)"

    # A dry run on the result reports nothing more to do, then a dry run on "everything".
    gc_json "$(gc_line keep 0 1000-0 0)"$'\n'"$(gc_line t 0 4000-30 0)" 33500 --dry-run
    ok sorted at 99000 pp-gc --json --dry-run
    dry_all=$output
    expect_output "$dry_all" sorted at 99000 pp-gc --json
    ok pp-check
}

@test "a topic whose logs were all collected takes almost no space and keeps working" {
    export PIPEPROC_SEGMENT_BYTES=1000
    for k in 0 1 2; do commit_at $((1000 + k)) t 100 $((k * 100)) 10; done
    (($(segments t | wc -l) >= 10)) || pp_fail "expected many segments:" "$(segments t)"
    du_before=$(topic_du t)
    bytes_before=$(topic_bytes t)
    ok at 99000 pp-gc --json
    jq -e '.topic == "t" and .collected == 300 and .first == ""' <<<"$output" >/dev/null ||
        pp_fail "unexpected report: $output"
    freed=$(jq .bytesFreed <<<"$output")
    ((freed >= bytes_before - $(topic_bytes t) && freed > bytes_before / 2)) ||
        pp_fail "bytesFreed $freed, files went from $bytes_before to $(topic_bytes t) bytes"
    left=$(topic_bytes t)
    ((left < 200)) || pp_fail "$left bytes of segment data left:" "$(ls -l "$PIPEPROC_LOCATION/topics/t")"
    (($(topic_du t) < du_before)) || pp_fail "du -sb did not drop: $du_before -> $(topic_du t)"
    # The file system gets the blocks back once the last descriptor of each deleted file
    # closes: pp-gc's detached helper closes them; nothing holds them for long.
    held() { find /proc/[0-9]*/fd -lname "$PIPEPROC_LOCATION/topics/t/*(deleted)" 2>/dev/null | wc -l; }
    none_held() { (($(held) == 0)); }
    wait_until 10 none_held || pp_fail "deleted segments still open: $(held)"
    expect_output 0 pp-length t
    expect_output "" pp-range t
    must_fail 1 sequence_not_found pp-range t -s :299
    ok pp-check
    # The sequence goes on after the last collected log.
    expect_output $'99500-300\n99500-301' at 99500 pp-commit -t t '"a"' '"b"'
    expect_output 2 pp-length t
    expect_output $'{"id":"99500-300","body":"a"}\n{"id":"99500-301","body":"b"}' pp-range t
    expect_output '{"id":"99500-301","body":"b"}' pp-range t -s :301
    ok pp-check
    # And collecting again gives back the empty topic's space again.
    gc_json "$(gc_line t 2 "" "$(topic_bytes t)")" 200000
    ok at 200001 pp-commit -q -t t '"c"'
    expect_output '200001-302' pp-range t --format id
    ok pp-check
}

# make_big: topic big, 100 logs at each of 1000, 2000, .., 30000 (sequences 0..2999),
# committed 20 at a time into 600-byte segments: 150 segments. Commits are not fsync'd.
make_big() {
    export PIPEPROC_SEGMENT_BYTES=600 PIPEPROC_SYNC=0
    local k
    for k in $(seq 0 29); do commit_at $((1000 * (k + 1))) big 100 $((k * 100)) 20; done
}

@test "pp-gc killed at random moments leaves the old or the new start, and a clean store" {
    make_big
    # small: a proc without a previous claim keeps it whole.
    commit_at 1000 small 5 0
    ok at 1000 pp-proc small -n s
    (($(segments big | wc -l) >= 60)) || pp_fail "expected many segments: $(segments big | wc -l)"
    seed=${PP_CRASH_SEED:-$(((RANDOM << 15) | RANDOM))}
    RANDOM=$seed
    echo "# crash seed: $seed (PP_CRASH_SEED=$seed)"
    start=0 old_kept=0 new_kept=0 leftovers=0
    for i in $(seq 1 20); do
        # now = 1000*(i+1) + 30000 + 500: batches 0..i are older than 30000 ms.
        now=$((1000 * (i + 1) + 30500))
        want=$((100 * (i + 1)))
        # env execs pp-gc in the background child: $! is pp-gc itself. The subshell keeps
        # the shell's "Killed" notice out of the test output.
        delay=$(printf '0.%04d' $((RANDOM % 90)))  # 0 to 9 ms, pp-gc's whole run
        (
            env PIPEPROC_NOW_MS="$now" pp-gc >/dev/null 2>&1 &
            gc=$!
            sleep "$delay"
            kill -9 "$gc" 2>/dev/null || true
            wait "$gc" || true
        ) 2>/dev/null
        ok pp-check
        got=$(first_seq big)
        if [[ $got == "$start" ]]; then
            old_kept=$((old_kept + 1))
        elif [[ $got == "$want" ]]; then
            new_kept=$((new_kept + 1))
        else
            pp_fail "iteration $i: the first log is $got, expected the old start $start or the new $want"
        fi
        start=$got
        # Killed after its commit, before it deleted every segment behind the new start?
        second=$(segments big | sed -n 2p)
        [[ $got == "$want" && -n $second ]] && ((10#$(basename "$second" .log) <= start)) &&
            leftovers=$((leftovers + 1))
        pp-range big --format id >"$BATS_TEST_TMPDIR/ids"
        ids_from "$BATS_TEST_TMPDIR/ids" "$start" || pp_fail "iteration $i: sequences not dense from $start"
        expect_eq $((3000 - start)) "$(line_count "$BATS_TEST_TMPDIR/ids")" "logs printed by pp-range"
        expect_output $((3000 - start)) pp-length big
        expect_output 5 pp-length small
    done
    echo "# $old_kept kills left the old start, $new_kept the new one ($leftovers of those before deleting all dead segments)"
    # A collection run to the end removes what killed ones left behind.
    ok at 52000 pp-gc --json
    expect_output 900 pp-length big
    first=$(basename "$(segments big | head -n 1)" .log)
    second=$(basename "$(segments big | sed -n 2p)" .log)
    ((10#$first <= 2100 && 10#$second > 2100)) ||
        pp_fail "segments wholly before the start 2100 are left: $(segments big | head -5)"
    ok pp-check
    expect_output "52000-3000" at 52000 pp-commit -t big '"after"'
}

@test "GC while a writer commits and a follower reads: the follower prints every log in order" {
    export PIPEPROC_SEGMENT_BYTES=500
    n=300
    # The follower waits for the topic, which does not exist yet.
    bg_start "$BATS_TEST_TMPDIR/follow.out" "$BATS_TEST_TMPDIR/follow.err" pp-range T -f
    follower=$bg_pid
    cat >"$BATS_TEST_TMPDIR/writer.sh" <<'EOF'
for ((i = 0; i < $1; i++)); do
    pp-commit -q -t T "{\"i\":$i}" || { echo "pp-commit exited $?" >&2; exit 1; }
    sleep 0.01  # a writer slower than the min prune time, however fast pp-commit is
done
EOF
    bg_start /dev/null "$BATS_TEST_TMPDIR/writer.err" timeout $((60 * PP_SLOW)) bash "$BATS_TEST_TMPDIR/writer.sh" "$n"
    writer=$bg_pid
    runs=0
    # Real clock: logs older than 1000 ms go while the writer goes on. The follower wakes
    # at each commit: it has printed a log long before it is that old (a log collected
    # before a follower got to it is gone for it too: "collected logs vanish from range").
    while kill -0 "$writer" 2>/dev/null; do
        pp-gc --min-prune-time 1000 >/dev/null 2>>"$BATS_TEST_TMPDIR/gc.err" || pp_fail "pp-gc failed: $(cat "$BATS_TEST_TMPDIR/gc.err")"
        runs=$((runs + 1))
        sleep 0.02
    done
    wait_pid 5 "$writer"
    expect_eq 0 "$status" "writer exit status ($(cat "$BATS_TEST_TMPDIR/writer.err"))"
    during=$(pp-length T)
    ((during < n)) || pp_fail "nothing was collected while the writer ran ($during logs left)"
    sleep 0.5
    ok pp-gc --min-prune-time 1000 --json
    jq -e '.first == "" or (.first | test("-[0-9]+$"))' <<<"$output" >/dev/null || pp_fail "bad report: $output"
    echo "# $runs collections while writing; finally: $output"
    len=$(pp-length T)

    wait_until 20 has_lines "$BATS_TEST_TMPDIR/follow.out" "$n"
    kill -0 "$follower" || pp_fail "the follower exited:" "$(cat "$BATS_TEST_TMPDIR/follow.err")"
    kill "$follower"
    wait_pid 5 "$follower"
    ((status == 0 || status == 143)) || pp_fail "the follower exited $status when killed"
    expect_eq "" "$(cat "$BATS_TEST_TMPDIR/follow.err")" "follower stderr"
    jq -r '.id' "$BATS_TEST_TMPDIR/follow.out" >"$BATS_TEST_TMPDIR/ids"
    ids_dense "$BATS_TEST_TMPDIR/ids" || pp_fail "the follower skipped or reordered logs"
    expect_eq "$n" "$(line_count "$BATS_TEST_TMPDIR/ids")" "logs the follower printed"
    jq -r '"\(.id | sub(".*-"; "")) \(.body.i)"' "$BATS_TEST_TMPDIR/follow.out" | awk '$1 != $2 { print; exit 1 }' >&2 ||
        pp_fail "a body does not match its sequence"

    ok pp-check
    pp-range T --format id >"$BATS_TEST_TMPDIR/left"
    expect_eq "$len" "$(line_count "$BATS_TEST_TMPDIR/left")" "pp-range vs pp-length"
    ((len == 0)) || ids_from "$BATS_TEST_TMPDIR/left" $((n - len)) || pp_fail "what is left is not the last $len logs"
}

@test "pp-check while pp-gc collects never reports the clean store as damaged" {
    make_big
    touch "$BATS_TEST_TMPDIR/checking"
    # A checker: pp-check in a loop until the file `checking` goes; prints each failure.
    cat >"$BATS_TEST_TMPDIR/checker.sh" <<'EOF'
n=0
while [[ -e $1/checking ]]; do
    pp-check >"$1/check.$2" 2>&1 || { echo "pp-check exited $? after $n clean runs:"; cat "$1/check.$2"; }
    n=$((n + 1))
done
echo "$n" >"$1/checks.$2"
EOF
    checkers=()
    for c in 1 2; do
        bg_start "$BATS_TEST_TMPDIR/checker.$c.out" "$BATS_TEST_TMPDIR/checker.$c.err" \
            bash "$BATS_TEST_TMPDIR/checker.sh" "$BATS_TEST_TMPDIR" "$c"
        checkers+=("$bg_pid")
    done
    # 28 collections of 100 logs (5 segments) each.
    for i in $(seq 1 28); do
        ok at $((1000 * (i + 1) + 30500)) pp-gc
        sleep 0.01
    done
    rm "$BATS_TEST_TMPDIR/checking"
    for c in "${checkers[@]}"; do wait_pid 10 "$c"; done
    echo "# $(awk '{ s += $1 } END { print s }' "$BATS_TEST_TMPDIR"/checks.*) pp-check runs during the collections"
    expect_eq "" "$(cat "$BATS_TEST_TMPDIR"/checker.*.out | head -c 2000)" "pp-check failures during GC"
    expect_output 100 pp-length big
    ok pp-check
}
