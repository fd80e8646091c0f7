#!/usr/bin/env bats
# pp-range and pp-length over a topic with known ids: nine logs, three per timestamp,
#   1000-0 1000-1 1000-2 | 2000-3 2000-4 2000-5 | 3000-6 3000-7 3000-8, body {"n":SEQ}.

load helpers

setup() {
    pp_setup
    local ts n=0
    for ts in 1000 2000 3000; do
        at "$ts" pp-commit -q -t t "{\"n\":$n}" "{\"n\":$((n + 1))}" "{\"n\":$((n + 2))}"
        n=$((n + 3))
    done
}

# expect_seqs "SEQ..." CMD...: CMD --format id prints exactly the ids of these sequences.
expect_seqs() {
    local seqs=$1 want="" s
    shift
    for s in $seqs; do want+="$(((s / 3 + 1) * 1000))-$s"$'\n'; done
    expect_output "${want%$'\n'}" "$@" --format id
}

@test "no bounds: every log, oldest first" {
    expect_seqs "0 1 2 3 4 5 6 7 8" pp-range t
}

@test "default format is exactly one {\"id\",\"body\"} line per log" {
    expect_output '{"id":"1000-0","body":{"n":0}}
{"id":"1000-1","body":{"n":1}}
{"id":"1000-2","body":{"n":2}}
{"id":"2000-3","body":{"n":3}}
{"id":"2000-4","body":{"n":4}}
{"id":"2000-5","body":{"n":5}}
{"id":"3000-6","body":{"n":6}}
{"id":"3000-7","body":{"n":7}}
{"id":"3000-8","body":{"n":8}}' pp-range t
    expect_output '{"id":"2000-4","body":{"n":4}}' pp-range t -s :4 -e :4 --format log
}

@test "--format body and --format id" {
    expect_output '{"n":3}
{"n":4}' pp-range t -s :3 -e :4 --format body
    expect_output '2000-3
2000-4' pp-range t -s :3 -e :4 --format id
    must_fail 2 pp-range t --format yaml
}

@test "sequence bounds" {
    expect_seqs "3 4 5 6 7 8" pp-range t -s :3
    expect_seqs "0 1 2 3 4 5" pp-range t -e :5
    expect_seqs "3 4 5" pp-range t -s :3 -e :5
    expect_seqs "4" pp-range t -s :4 -e :4
    expect_seqs "0 1 2 3 4 5 6 7 8" pp-range t -s :0 -e :8
    expect_seqs "8" pp-range t -s :8
    expect_seqs "3 4 5" pp-range t --start :3 --end :5
}

@test "full id bounds" {
    expect_seqs "3 4 5 6 7 8" pp-range t -s 2000-3
    expect_seqs "0 1 2 3 4" pp-range t -e 2000-4
    expect_seqs "1 2 3 4 5 6 7" pp-range t -s 1000-1 -e 3000-7
    expect_seqs "6" pp-range t -s 3000-6 -e 3000-6
}

@test "timestamp bounds: start is the first log at or after, end the last at or before" {
    expect_seqs "3 4 5 6 7 8" pp-range t -s 2000
    expect_seqs "0 1 2 3 4 5" pp-range t -e 2000
    expect_seqs "3 4 5" pp-range t -s 2000 -e 2000
    expect_seqs "3 4 5 6 7 8" pp-range t -s 1500
    expect_seqs "0 1 2" pp-range t -e 1500
    expect_seqs "6 7 8" pp-range t -s 2500
    expect_seqs "0 1 2 3 4 5" pp-range t -e 2500
    expect_seqs "3 4 5" pp-range t -s 1500 -e 2500
    expect_seqs "0 1 2 3 4 5 6 7 8" pp-range t -s 0 -e 99999
    expect_seqs "0 1 2 3 4 5 6 7 8" pp-range t -s 1000 -e 3000
    expect_seqs "" pp-range t -s 3001
    expect_seqs "" pp-range t -e 999
    expect_seqs "" pp-range t -s 1500 -e 1999
}

@test "mixed bound forms" {
    expect_seqs "2 3 4 5" pp-range t -s :2 -e 2000
    expect_seqs "3 4 5 6 7" pp-range t -s 2000 -e 3000-7
    expect_seqs "1 2 3 4" pp-range t -s 1000-1 -e :4
}

@test "--exclusive with timestamps excludes every log at the bound's timestamp" {
    expect_seqs "6 7 8" pp-range t -s 2000 -x
    expect_seqs "0 1 2" pp-range t -e 2000 -x
    expect_seqs "3 4 5" pp-range t -s 1000 -e 3000 -x
    expect_seqs "" pp-range t -s 2000 -e 3000 --exclusive
    # No log sits at 1500 or 2500: nothing extra is excluded.
    expect_seqs "3 4 5 6 7 8" pp-range t -s 1500 -x
    expect_seqs "3 4 5" pp-range t -s 1500 -e 2500 -x
}

@test "--exclusive with sequences and ids excludes just those logs" {
    expect_seqs "4" pp-range t -s :3 -e :5 -x
    expect_seqs "4 5 6 7 8" pp-range t -s :3 -x
    expect_seqs "0 1 2 3 4" pp-range t -e :5 -x
    expect_seqs "4 5 6" pp-range t -s 2000-3 -e 3000-7 -x
    expect_seqs "" pp-range t -s :4 -e :4 -x
    expect_seqs "" pp-range t -s :4 -e :5 --exclusive
    expect_seqs "1 2 3 4 5 6 7" pp-range t -s :0 -e :8 -x
}

@test "--limit" {
    expect_seqs "0 1" pp-range t -l 2
    expect_seqs "4 5" pp-range t -s :4 -l 2
    expect_seqs "0 1 2 3 4 5 6 7 8" pp-range t -l 0
    expect_seqs "0 1 2 3 4 5 6 7 8" pp-range t -l -1
    expect_seqs "0 1 2 3 4 5 6 7 8" pp-range t -l 100
    expect_seqs "3" pp-range t -s 2000 --limit 1
}

@test "--reverse: newest first, START >= END" {
    expect_seqs "8 7 6 5 4 3 2 1 0" pp-range t -r
    expect_seqs "5 4 3" pp-range t -r -s :5 -e :3
    expect_seqs "5 4 3 2 1 0" pp-range t -r -s :5
    expect_seqs "8 7 6 5 4 3" pp-range t -r -e :3
    expect_seqs "7 6 5 4 3" pp-range t --reverse -s 3000-7 -e 2000-3
    expect_seqs "4" pp-range t -r -s :5 -e :3 -x
    expect_seqs "8 7" pp-range t -r -l 2
    expect_seqs "5 4" pp-range t -r -s :5 -e :3 -l 2
    expect_seqs "" pp-range t -r -s :3 -e :5
}

@test "START after END (oldest first) is an empty result, not an error" {
    expect_seqs "" pp-range t -s :5 -e :3
    expect_seqs "" pp-range t -s 3000 -e 1000
    expect_seqs "" pp-range t -s 3000-7 -e 1000-1
}

@test "an unknown topic is invalid_topic" {
    must_fail 1 invalid_topic pp-range nosuch
    must_fail 1 invalid_topic pp-range nosuch -s :0
    must_fail 1 invalid_topic pp-length nosuch
}

@test "an invalid topic name is invalid_name" {
    must_fail 2 invalid_name pp-range 'a/b'
    must_fail 2 invalid_name pp-range '..'
    must_fail 2 invalid_name pp-length 'a b'
}

@test "a malformed bound is invalid_range_offset" {
    for bound in abc 12- :x 12-x 1-2-3 : ':-1' '1.5' '2000-3x' ' '; do
        must_fail 1 invalid_range_offset pp-range t -s "$bound"
        must_fail 1 invalid_range_offset pp-range t -e "$bound"
    done
}

@test "a sequence the topic does not hold is sequence_not_found" {
    must_fail 1 sequence_not_found pp-range t -s :99
    must_fail 1 sequence_not_found pp-range t -e :99
    must_fail 1 sequence_not_found pp-range t -s :9
    must_fail 1 sequence_not_found pp-range t -s :0 -e :9
}

@test "--follow does not go with --reverse or --end" {
    must_fail 2 timeout 10 pp-range t --follow --reverse
    must_fail 2 timeout 10 pp-range t -f -e :5
}

@test "--follow prints the existing logs, then a later commit" {
    out="$BATS_TEST_TMPDIR/follow.out"
    bg_start "$out" "$BATS_TEST_TMPDIR/follow.err" pp-range t -f
    pid=$bg_pid
    wait_until 5 has_lines "$out" 9
    at 4000 pp-commit -q -t t '{"n":9}'
    wait_until 5 has_lines "$out" 10
    at 5000 pp-commit -q -t t '{"n":10}' '{"n":11}'
    wait_until 5 has_lines "$out" 12
    kill -0 "$pid" || pp_fail "pp-range --follow exited"
    bg_stop "$pid"
    expect_output '{"id":"1000-0","body":{"n":0}}
{"id":"1000-1","body":{"n":1}}
{"id":"1000-2","body":{"n":2}}
{"id":"2000-3","body":{"n":3}}
{"id":"2000-4","body":{"n":4}}
{"id":"2000-5","body":{"n":5}}
{"id":"3000-6","body":{"n":6}}
{"id":"3000-7","body":{"n":7}}
{"id":"3000-8","body":{"n":8}}
{"id":"4000-9","body":{"n":9}}
{"id":"5000-10","body":{"n":10}}
{"id":"5000-11","body":{"n":11}}' cat "$out"
}

@test "--follow with a start and a format" {
    out="$BATS_TEST_TMPDIR/follow.out"
    bg_start "$out" "$BATS_TEST_TMPDIR/follow.err" pp-range t -f -s :7 --format id
    wait_until 5 has_lines "$out" 2
    at 4000 pp-commit -q -t t '{"n":9}'
    wait_until 5 has_lines "$out" 3
    bg_stop "$bg_pid"
    expect_output '3000-7
3000-8
4000-9' cat "$out"
}

@test "--follow on an unknown topic waits for it, then prints its logs" {
    out="$BATS_TEST_TMPDIR/follow.out" err="$BATS_TEST_TMPDIR/follow.err"
    bg_start "$out" "$err" pp-range later -f --format body
    pid=$bg_pid
    sleep 0.3
    kill -0 "$pid" || pp_fail "pp-range --follow on an unknown topic exited:" "$(cat "$err")"
    ok pp-commit -q -t later '"hello"'
    wait_until 5 has_lines "$out" 1
    ok pp-commit -q -t later '"again"'
    wait_until 5 has_lines "$out" 2
    bg_stop "$pid"
    expect_output '"hello"
"again"' cat "$out"
    expect_output "" cat "$err"
}

@test "pp-range into a pipe that closes early exits 0 without an error" {
    seq 1 20000 | awk '{ printf "{\"i\":%d,\"pad\":\"%s\"}\n", $1, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" }' |
        pp-commit -q -t big
    pp-range big 2>"$BATS_TEST_TMPDIR/err" | head -n 1 >"$BATS_TEST_TMPDIR/first"
    rc=${PIPESTATUS[0]}
    expect_eq 0 "$rc" "pp-range exit code when its reader went away"
    expect_eq "" "$(cat "$BATS_TEST_TMPDIR/err")" "stderr"
    [[ $(cat "$BATS_TEST_TMPDIR/first") == '{"id":"'*'-0","body":{"i":1,'* ]] ||
        pp_fail "unexpected first line: $(cat "$BATS_TEST_TMPDIR/first")"
    pp-range t | head -n 1 >/dev/null
    expect_eq 0 "${PIPESTATUS[0]}" "pp-range exit code, small topic"
}

@test "pp-length counts the logs of a topic" {
    expect_output 9 pp-length t
    ok pp-commit -q -t t 1 2 3
    expect_output 12 pp-length t
    ok pp-commit -q -t other 1
    expect_output 1 pp-length other
    expect_output 12 pp-length t
    must_fail 1 invalid_topic pp-length nosuch
}

@test "pp range dispatches to pp-range" {
    expect_seqs "3 4 5" pp range t -s :3 -e :5
}

# Small segments through the writer's test hook PIPEPROC_SEGMENT_BYTES (not part of the
# contract): reads must not notice where one segment file ends and the next begins.
@test "ranges across segment files" {
    export PIPEPROC_SEGMENT_BYTES=4096
    for ts in 4000 5000 6000; do
        seq $(((ts - 4000) / 1000 * 1000)) $(((ts - 4000) / 1000 * 1000 + 999)) |
            awk '{ printf "{\"i\":%d,\"pad\":\"%s\"}\n", $1, "ssssssssssssssssssssssssssssssssssssssss" }' |
            at "$ts" pp-commit -q -t seg
    done
    nseg=$(segments seg | wc -l)
    ((nseg >= 3)) || skip "PIPEPROC_SEGMENT_BYTES is not honoured ($nseg segment file)"
    echo "# $nseg segment files"
    want() { seq "$1" "$2" | awk '{ printf "%d-%d\n", 4000 + int($1 / 1000) * 1000, $1 }'; }
    expect_output "$(want 0 2999)" pp-range seg --format id
    expect_output "$(want 2999 2999; want 2998 2998)" pp-range seg -r -l 2 --format id
    expect_output "$(want 995 1004)" pp-range seg -s :995 -e :1004 --format id
    expect_output "$(want 1000 1999)" pp-range seg -s 5000 -e 5000 --format id
    expect_output "$(want 2000 2999)" pp-range seg -s 5000 -x --format id
    expect_output "$(want 1500 1502)" pp-range seg -s :1500 -l 3 --format id
    expect_output "$(want 2000 2001)" pp-range seg -s 5500 -l 2 --format id
    expect_output "$(seq 2005 -1 1995 | awk '{ printf "%d-%d\n", 4000 + int($1 / 1000) * 1000, $1 }')" \
        pp-range seg -r -s :2005 -e :1995 --format id
    expect_output '{"i":2222,"pad":"ssssssssssssssssssssssssssssssssssssssss"}' pp-range seg -s :2222 -e :2222 --format body
    expect_output 3000 pp-length seg
    must_fail 1 sequence_not_found pp-range seg -s :3000
}

@test "--follow across a segment roll" {
    export PIPEPROC_SEGMENT_BYTES=4096
    out="$BATS_TEST_TMPDIR/follow.out"
    bg_start "$out" "$BATS_TEST_TMPDIR/follow.err" pp-range seg -f --format body
    for ((k = 0; k < 20; k++)); do
        seq $((k * 50)) $((k * 50 + 49)) | awk '{ printf "{\"i\":%d,\"pad\":\"%s\"}\n", $1, "ffffffffffffffffffffffffffffffffffffffff" }' |
            pp-commit -q -t seg
    done
    wait_until 10 has_lines "$out" 1000
    bg_stop "$bg_pid"
    nseg=$(segments seg | wc -l)
    ((nseg >= 3)) || skip "PIPEPROC_SEGMENT_BYTES is not honoured ($nseg segment file)"
    expect_output "$(seq 0 999 | awk '{ printf "{\"i\":%d,\"pad\":\"%s\"}\n", $1, "ffffffffffffffffffffffffffffffffffffffff" }')" cat "$out"
}

@test "a parallel export of large logs keeps its memory bounded and its order" {
    # 70,000 logs of 2 KiB: enough for the parallel export, whose chunks are cut by size
    # (a fixed count of logs per chunk would hold 4 x 16 MiB of text here).
    pad=$(head -c 2000 /dev/zero | tr '\0' 'x')
    seq 0 69999 | awk -v pad="$pad" '{ printf "{\"i\":%d,\"pad\":\"%s\"}\n", $1, pad }' >"$BATS_TEST_TMPDIR/in"
    pp-commit -q --no-sync -t big <"$BATS_TEST_TMPDIR/in"
    py=$(command -v /usr/bin/python3 || command -v python3)
    rss=$("$py" -S -c '
import resource, subprocess, sys
with open(sys.argv[1], "wb") as out:
    p = subprocess.run(sys.argv[2:], stdout=out)
if p.returncode: sys.exit(p.returncode)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$BATS_TEST_TMPDIR/out" pp-range big --format body)
    cmp -s "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/in" || pp_fail "the export differs from the input"
    echo "# peak RSS $rss KiB"
    limit=48
    [[ -z ${PP_SANITIZER_FLAGS:-} ]] || limit=512
    ((rss < limit * 1024)) || pp_fail "pp-range peaked at $rss KiB (limit $limit MiB)"
}
