#!/usr/bin/env bats
# pp-commit as a user runs it: bodies from arguments and stdin, envelopes, the input rules
# (trimming, blank lines, bad lines, size limits), names, flags and `pp` dispatch.

load helpers

@test "arguments are one batch: one id per body, sequences count from 0" {
    expect_output "1000-0
1000-1
1000-2" at 1000 pp-commit -t t '{"a":1}' '{"a":2}' '{"a":3}'
    expect_output "2000-3" at 2000 pp-commit -t t '{"a":4}'
    expect_output '{"a":1}
{"a":2}
{"a":3}
{"a":4}' pp-range t --format body
}

@test "arguments share one timestamp from the real clock" {
    before=$(date +%s%3N)
    ok pp-commit -t t 1 2 3
    after=$(date +%s%3N)
    [[ $output =~ ^([0-9]+)-0$'\n'([0-9]+)-1$'\n'([0-9]+)-2$ ]] || pp_fail "unexpected ids:" "$output"
    ts=${BASH_REMATCH[1]}
    expect_eq "$ts $ts" "${BASH_REMATCH[2]} ${BASH_REMATCH[3]}" "timestamps of one batch"
    ((ts >= before - 1000 && ts <= after + 1000)) || pp_fail "timestamp $ts not near now ($before..$after)"
}

@test "stdin: one JSON line per log, ids in input order" {
    printf '{"a":1}\n{"a":2}\n[3]\n' >"$BATS_TEST_TMPDIR/in"
    expect_output "1000-0
1000-1
1000-2" at 1000 pp-commit -t t <"$BATS_TEST_TMPDIR/in"
    expect_output '{"id":"1000-0","body":{"a":1}}
{"id":"1000-1","body":{"a":2}}
{"id":"1000-2","body":[3]}' pp-range t
}

@test "empty stdin commits nothing and succeeds" {
    expect_output "" pp-commit -t t </dev/null
    nothing_committed t
}

@test "envelopes on stdin without -t go to their topics" {
    printf '%s\n' '{"topic":"x","body":{"a":1}}' '{"topic":"y","body":[2]}' \
        '{"body":3,"topic":"x"}' >"$BATS_TEST_TMPDIR/in"
    expect_output "1000-0
1000-0
1000-1" at 1000 pp-commit <"$BATS_TEST_TMPDIR/in"
    expect_output '{"a":1}
3' pp-range x --format body
    expect_output '[2]' pp-range y --format body
}

@test "envelopes as arguments without -t go to their topics" {
    expect_output "1000-0
1000-0" at 1000 pp-commit '{"topic":"x","body":"one"}' '{"topic":"y","body":"two"}'
    expect_output '"one"' pp-range x --format body
    expect_output '"two"' pp-range y --format body
}

@test "with -t an envelope-shaped line is an ordinary body of that topic" {
    env='{"topic":"x","body":{"a":1}}'
    expect_output "1000-0" at 1000 pp-commit -t t "$env"
    printf '%s\n' "$env" | at 1000 pp-commit -q -t t
    expect_output "$env
$env" pp-range t --format body
    must_fail 1 invalid_topic pp-length x
}

@test "an envelope body is stored exactly as given, inner spacing kept" {
    printf '%s\n' '{"topic":"t", "body": {"x" : 1.50, "y":[ 1 ,2 ]} }' >"$BATS_TEST_TMPDIR/in"
    ok pp-commit <"$BATS_TEST_TMPDIR/in"
    expect_output '{"x" : 1.50, "y":[ 1 ,2 ]}' pp-range t --format body
}

@test "input that is not an envelope is bad input without -t" {
    must_fail 65 pp-commit '{"a":1}'
    must_fail 65 pp-commit '{"topic":"x"}'
    must_fail 65 pp-commit '{"body":1}'
    must_fail 65 pp-commit '[1,2]'
    must_fail 65 pp-commit '{"topic":7,"body":1}'
    must_fail 1 invalid_topic pp-length x
}

@test "an envelope naming an invalid topic is invalid_name and writes nothing" {
    must_fail 2 invalid_name pp-commit '{"topic":"ok","body":1}' '{"topic":"a/b","body":2}'
    nothing_committed ok
    must_fail 1 invalid_topic pp-length a
}

@test "a multi-topic envelope batch shares one timestamp" {
    ok pp-commit '{"topic":"a","body":1}' '{"topic":"b","body":2}' '{"topic":"c","body":3}'
    [[ $output =~ ^([0-9]+)-0$'\n'([0-9]+)-0$'\n'([0-9]+)-0$ ]] || pp_fail "unexpected ids:" "$output"
    expect_eq "${BASH_REMATCH[1]} ${BASH_REMATCH[1]}" "${BASH_REMATCH[2]} ${BASH_REMATCH[3]}" "timestamps"
    printf '%s\n' '{"topic":"a","body":4}' '{"topic":"b","body":5}' '{"topic":"c","body":6}' |
        pp-commit --atomic >"$BATS_TEST_TMPDIR/ids"
    mapfile -t ids <"$BATS_TEST_TMPDIR/ids"
    expect_eq 3 "${#ids[@]}" "number of ids"
    expect_eq "${ids[0]%-*} ${ids[0]%-*}" "${ids[1]%-*} ${ids[2]%-*}" "timestamps of an --atomic stdin batch"
}

@test "a batch shared with a topic whose clock is ahead takes that topic's timestamp" {
    expect_output "5000-0" at 5000 pp-commit -t a '"first"'
    expect_output "5000-1
5000-0" at 1000 pp-commit '{"topic":"a","body":1}' '{"topic":"b","body":2}'
}

@test "timestamps never go backwards: an earlier clock reuses the last timestamp" {
    expect_output "3000-0" at 3000 pp-commit -t t 1
    expect_output "3000-1
3000-2" at 1000 pp-commit -t t 2 3
    expect_output "4000-3" at 4000 pp-commit -t t 4
}

@test "every kind of JSON value is a body" {
    bodies=('{"k":"v"}' '[1,"two",null]' '"a string"' '42' '-1.5e3' 'true' 'false' 'null' '{}' '[]' '""' '0')
    ok at 1000 pp-commit -t args "${bodies[@]}"
    printf '%s\n' "${bodies[@]}" | at 1000 pp-commit -q -t stdin
    want=$(printf '%s\n' "${bodies[@]}")
    expect_output "$want" pp-range args --format body
    expect_output "$want" pp-range stdin --format body
    expect_output '{"id":"1000-2","body":"a string"}' pp-range args -s :2 -e :2
    expect_output '{"id":"1000-7","body":null}' pp-range args -s :7 -e :7
    expect_output '{"id":"1000-5","body":true}' pp-range stdin -s :5 -e :5
}

@test "a body is stored byte for byte: spacing, number spelling, escapes" {
    bodies=('{"a" :  1,   "b":[1, 2] }' '{"n":1.0,"m":1E+2,"z":-0}' '"caf\u00e9 \"q\" \\ \/"'
        '"café ☕ 𝄞"' '123456789012345678901234567890' '{"a":1,"a":2}')
    printf '%s\n' "${bodies[@]}" | pp-commit -q -t t
    expect_output "$(printf '%s\n' "${bodies[@]}")" pp-range t --format body
}

@test "whitespace at the ends of a line is trimmed, inner whitespace kept" {
    printf '  {"a" :  1,   "b":[1, 2]}  \t\n\t[ 1 ]\r\n' >"$BATS_TEST_TMPDIR/in"
    ok pp-commit -t t <"$BATS_TEST_TMPDIR/in"
    ok pp-commit -t t '  "x  y"  '
    expect_output '{"a" :  1,   "b":[1, 2]}
[ 1 ]
"x  y"' pp-range t --format body
}

@test "blank lines are skipped" {
    printf '\n{"a":1}\n\n   \n\t\n{"a":2}\n\n' >"$BATS_TEST_TMPDIR/in"
    expect_output "1000-0
1000-1" at 1000 pp-commit -t t <"$BATS_TEST_TMPDIR/in"
    expect_output 2 pp-length t
}

@test "a last line without a newline is committed" {
    printf '{"a":1}\n{"a":2}' >"$BATS_TEST_TMPDIR/in"
    ok pp-commit -t t <"$BATS_TEST_TMPDIR/in"
    expect_output '{"a":1}
{"a":2}' pp-range t --format body
}

@test "bad JSON at line 3: lines 1-2 are committed, exit 65 names line 3" {
    printf '{"a":1}\n{"a":2}\n{bad\n{"a":4}\n' >"$BATS_TEST_TMPDIR/in"
    must_fail 65 invalid_json at 1000 pp-commit -t t <"$BATS_TEST_TMPDIR/in"
    [[ $stderr == *"line 3"* ]] || pp_fail "stderr does not name line 3:" "$stderr"
    expect_eq "1000-0
1000-1" "$output" "ids printed for the committed lines"
    expect_output '{"a":1}
{"a":2}' pp-range t --format body
}

# The committing thread validates the tail of a batch when it would otherwise wait
# (PIPEPROC_TEST_TAIL_SHARE pins that share: 32/64, half of every batch).
@test "a bad line in the half of a batch the committing thread checks: the lines before it commit" {
    { seq 1 600; echo '{bad'; seq 602 700; } >"$BATS_TEST_TMPDIR/in"
    must_fail 65 invalid_json env PIPEPROC_TEST_TAIL_SHARE=32 pp-commit -t t <"$BATS_TEST_TMPDIR/in"
    [[ $stderr == *"line 601:"* ]] || pp_fail "stderr does not name line 601:" "$stderr"
    expect_eq 600 "$(sort -u <<<"$output" | wc -l)" "ids printed for the committed lines"
    expect_output "$(seq 1 600)" pp-range t --format body
}

@test "a bad line in the half of a batch the reading thread checks: the lines before it commit" {
    { seq 1 100; echo '[1,]'; seq 102 700; } >"$BATS_TEST_TMPDIR/in"
    must_fail 65 invalid_json env PIPEPROC_TEST_TAIL_SHARE=32 pp-commit -q -t t <"$BATS_TEST_TMPDIR/in"
    [[ $stderr == *"line 101:"* ]] || pp_fail "stderr does not name line 101:" "$stderr"
    expect_output "$(seq 1 100)" pp-range t --format body
}

@test "batches split between the two threads commit every line once, in order" {
    seq 1 20000 | sed 's/.*/{"n":&}/' >"$BATS_TEST_TMPDIR/in"
    ok env PIPEPROC_TEST_TAIL_SHARE=32 pp-commit -t t <"$BATS_TEST_TMPDIR/in"
    expect_eq 20000 "$(sort -u <<<"$output" | wc -l)" "distinct ids printed"
    expect_output "$(cat "$BATS_TEST_TMPDIR/in")" pp-range t --format body
}

@test "a durable stream of 48 MiB without a pause prints every id once, in order, after its fsyncs" {
    # A file never makes the stream wait for input: its fsyncs run beside the commits
    # (every 16 MiB or so) and each flushed batch's ids are printed before later ones.
    awk 'BEGIN { pad = sprintf("%090d", 0); for (i = 0; i < 480000; i++) printf "{\"i\":%d,\"p\":\"%s\"}\n", i, pad }' \
        >"$BATS_TEST_TMPDIR/in"
    at 1000 pp-commit -t t <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/ids" || pp_fail "pp-commit failed"
    expect_eq "$(seq 0 479999 | sed 's/^/1000-/')" "$(cat "$BATS_TEST_TMPDIR/ids")" "ids printed"
    expect_output 480000 pp-length t
    expect_output clean pp-check
}

@test "a bad line exits at once even though the input stays open" {
    # Three lines in one batch: the committing thread checks the third, the bad one.
    mkfifo "$BATS_TEST_TMPDIR/fifo"
    { printf '"1"\n"2"\n{bad\n'; exec sleep 30; } >"$BATS_TEST_TMPDIR/fifo" &
    local feeder=$! start=$SECONDS rc=0
    env PIPEPROC_TEST_TAIL_SHARE=32 timeout 15 pp-commit -q -t t <"$BATS_TEST_TMPDIR/fifo" \
        2>"$BATS_TEST_TMPDIR/err" || rc=$?
    kill "$feeder" 2>/dev/null || true
    expect_eq 65 "$rc" "exit status ($(<"$BATS_TEST_TMPDIR/err"))"
    (( SECONDS - start < 10 )) || pp_fail "pp-commit waited for the input to end"
    expect_output '"1"
"2"' pp-range t --format body
}

@test "line numbers count blank lines" {
    printf '{"a":1}\n\n{"a":2}\n\n[\n' >"$BATS_TEST_TMPDIR/in"
    must_fail 65 invalid_json pp-commit -t t <"$BATS_TEST_TMPDIR/in"
    [[ $stderr == *"line 5"* ]] || pp_fail "stderr does not name line 5:" "$stderr"
    expect_output 2 pp-length t
}

@test "bad JSON on the first line commits nothing" {
    printf 'nope\n{"a":1}\n' >"$BATS_TEST_TMPDIR/in"
    must_fail 65 invalid_json pp-commit -t t <"$BATS_TEST_TMPDIR/in"
    [[ $stderr == *"line 1"* ]] || pp_fail "stderr does not name line 1:" "$stderr"
    expect_eq "" "$output" "stdout"
    nothing_committed t
}

@test "bad envelope line in a multi-topic stream: the lines before it are committed" {
    printf '%s\n' '{"topic":"a","body":1}' '{"topic":"b","body":2}' '{"topic":"a","body":' \
        '{"topic":"b","body":4}' >"$BATS_TEST_TMPDIR/in"
    must_fail 65 pp-commit <"$BATS_TEST_TMPDIR/in"
    [[ $stderr == *"line 3"* ]] || pp_fail "stderr does not name line 3:" "$stderr"
    expect_output 1 pp-range a --format body
    expect_output 2 pp-range b --format body
}

@test "--atomic: a bad line commits nothing at all" {
    printf '{"a":1}\n{"a":2}\n{"a":3}\n{"a":\n' >"$BATS_TEST_TMPDIR/in"
    must_fail 65 invalid_json pp-commit --atomic -t t <"$BATS_TEST_TMPDIR/in"
    [[ $stderr == *"line 4"* ]] || pp_fail "stderr does not name line 4:" "$stderr"
    expect_eq "" "$output" "stdout"
    nothing_committed t
}

@test "--atomic: good input is committed as one batch" {
    seq 1 500 >"$BATS_TEST_TMPDIR/in"
    ok pp-commit --atomic -t t <"$BATS_TEST_TMPDIR/in"
    expect_eq 500 "$(wc -l <<<"$output")" "ids printed"
    expect_eq 1 "$(cut -d- -f1 <<<"$output" | sort -u | wc -l)" "distinct timestamps"
    expect_output "$(seq 1 500)" pp-range t --format body
}

@test "a bad argument refuses the whole argument batch" {
    must_fail 65 invalid_json pp-commit -t t '{"a":1}' '{"a":2}' '{bad'
    expect_eq "" "$output" "stdout"
    nothing_committed t
}

@test "bin/pp-commit commits arguments and a small finished stdin alone; streams and envelopes need its helper" {
    # bin/pp-commit is linked without the JSON library; what it does not take itself runs
    # libexec/pipeproc/pp-commit-json. A copy with no libexec beside it shows which is which.
    mkdir -p "$BATS_TEST_TMPDIR/alone/bin"
    cp "$PP_BIN/pp-commit" "$BATS_TEST_TMPDIR/alone/bin/"
    local lone=$BATS_TEST_TMPDIR/alone/bin/pp-commit
    run "$lone" -t t '{"a":1}' '[2,"x"]' 1e400
    expect_eq 0 "$status" "exit status"
    expect_eq 3 "$(pp-length t)" "logs committed from arguments"
    must_fail 65 invalid_json "$lone" -t t '{"a":1}' '{"a":'
    must_fail 2 invalid_name "$lone" -t 'no/slash' '{}'
    # A small file, and a pipe whose writer is done: one batch, the stream's rules.
    printf '{"b":1}\n\n  [3]  \n' >"$BATS_TEST_TMPDIR/small"
    run "$lone" -t t <"$BATS_TEST_TMPDIR/small"
    expect_eq 0 "$status" "exit status of a small stdin"
    expect_eq 2 "${#lines[@]}" "ids printed for a small stdin"
    printf '4\n{bad\n5\n' >"$BATS_TEST_TMPDIR/bad"
    must_fail 65 invalid_json "$lone" -t t <"$BATS_TEST_TMPDIR/bad"
    expect_eq 1 "$(printf '%s\n' "$output" | grep -c .)" "ids of the lines before the bad one"
    [[ $stderr == *"line 2:"* ]] || pp_fail "the error names line 2: $stderr"
    must_fail 65 invalid_json "$lone" -t t --atomic <"$BATS_TEST_TMPDIR/bad"
    expect_eq 6 "$(pp-length t)" "logs after the small stdins"
    # More than 64 KiB, a writer still writing, or envelopes: the helper's.
    seq 20000 >"$BATS_TEST_TMPDIR/big"
    must_fail 74 io_error "$lone" -t t <"$BATS_TEST_TMPDIR/big"
    must_fail 74 io_error sh -c '{ echo 1; sleep 0.3; echo 2; } | "$0" -t t' "$lone"
    must_fail 74 io_error "$lone" '{"topic":"t","body":1}'
    expect_eq 6 "$(pp-length t)" "logs after the runs that needed the helper"
    # The installed layout finds it.
    pp-commit -q -t t <"$BATS_TEST_TMPDIR/big"
    pp-commit -q '{"topic":"t","body":1}'
    expect_eq 20007 "$(pp-length t)" "logs with the helper"
}

@test "arguments, a small stdin and the helper's stream agree on the JSON edge cases" {
    # Arguments and a small stdin are checked by RapidJSON in bin/pp-commit, streams by
    # simdjson in the helper, run here directly.
    local helper=$PP_BIN/../libexec/pipeproc/pp-commit-json
    local t ok=('1e400' '"\ud83d\ude00"' '-0' '[[[[]]]]' '"\u0000"' $'"\xe2\x82\xac"')
    local bad=('"\udc00"' '"\ud800"' $'"\xed\xa0\x80"' $'"\xc0\x80"' '1.' '+1' '[1,]')
    for t in "${ok[@]}"; do
        pp-commit -q -t good "$t"
        printf '%s\n' "$t" | pp-commit -q -t good
        printf '%s\n' "$t" | "$helper" -q -t good
    done
    expect_eq $((3 * ${#ok[@]})) "$(pp-length good)" "valid edge cases committed every way"
    for t in "${bad[@]}"; do
        must_fail 65 invalid_json pp-commit -t t "$t"
        printf '%s\n' "$t" >"$BATS_TEST_TMPDIR/in"
        must_fail 65 invalid_json pp-commit -t t <"$BATS_TEST_TMPDIR/in"
        must_fail 65 invalid_json "$helper" -t t <"$BATS_TEST_TMPDIR/in"
    done
    nothing_committed t
}

@test "malformed JSON of every sort is invalid_json" {
    local bad
    for bad in '{bad' '{"a":1' '{"a":1}}' '{"a":1} {"b":2}' '1 2' '[1,]' '{"a":1,}' "'x'" \
        'nul' 'tru' '01' 'NaN' '"unterminated' '}' '{"a" 1}' $'"\x01"' $'"\xff"' 'undefined'; do
        must_fail 65 invalid_json pp-commit -t t "$bad"
        printf '%s\n' "$bad" >"$BATS_TEST_TMPDIR/in"
        must_fail 65 invalid_json pp-commit -t t <"$BATS_TEST_TMPDIR/in"
    done
    nothing_committed t
}

@test "--max-body: a body of the limit is accepted, one byte more is record_too_large" {
    expect_output "1000-0" at 1000 pp-commit --max-body 10 -t t '"12345678"'
    must_fail 65 record_too_large pp-commit --max-body 10 -t t '"123456789"'
    must_fail 65 record_too_large pp-commit --max-body 10 -t t '"1"' '{"a":"0123456789"}'
    expect_output '"12345678"' pp-range t --format body
}

@test "--max-body on stdin: the lines before a too large one are committed" {
    printf '"1"\n"2"\n"this is too long"\n"4"\n' >"$BATS_TEST_TMPDIR/in"
    must_fail 65 record_too_large pp-commit --max-body 10 -t t <"$BATS_TEST_TMPDIR/in"
    [[ $stderr == *"line 3"* ]] || pp_fail "stderr does not name line 3:" "$stderr"
    expect_output '"1"
"2"' pp-range t --format body
}

# make_body N: print a JSON string body of exactly N bytes, then a newline.
make_body() {
    printf '"'
    head -c $(($1 - 2)) /dev/zero | tr '\0' x
    printf '"\n'
}

@test "default limit: a 16 MiB body is stored, 16 MiB + 1 byte is record_too_large" {
    make_body $((16 << 20)) >"$BATS_TEST_TMPDIR/max"
    make_body $(((16 << 20) + 1)) >"$BATS_TEST_TMPDIR/over"
    ok pp-commit -t t <"$BATS_TEST_TMPDIR/max"
    must_fail 65 record_too_large pp-commit -t t <"$BATS_TEST_TMPDIR/over"
    expect_output 1 pp-length t
    pp-range t --format body >"$BATS_TEST_TMPDIR/back"
    cmp "$BATS_TEST_TMPDIR/max" "$BATS_TEST_TMPDIR/back"
}

@test "default limit: a 17 MiB line in a stream is record_too_large, lines before it stay" {
    {
        echo '{"a":1}'
        make_body $((17 << 20))
        echo '{"a":3}'
    } >"$BATS_TEST_TMPDIR/in"
    must_fail 65 record_too_large pp-commit -t t <"$BATS_TEST_TMPDIR/in"
    [[ $stderr == *"line 2"* ]] || pp_fail "stderr does not name line 2:" "$stderr"
    expect_output '{"a":1}' pp-range t --format body
}

@test "invalid topic names are invalid_name, exit 2, and nothing is written" {
    long=$(printf 'a%.0s' {1..201})
    for name in 'a/b' '..' '.' '' "$long" 'with space' 'a:b' 'é' '/abs' 'a\b'; do
        must_fail 2 invalid_name pp-commit -t "$name" '{"a":1}'
        printf '{"a":1}\n' >"$BATS_TEST_TMPDIR/in"
        must_fail 2 invalid_name pp-commit -t "$name" <"$BATS_TEST_TMPDIR/in"
    done
    must_fail 1 invalid_topic pp-length a
    must_fail 1 invalid_topic pp-length with
    found=$(find "$BATS_TEST_TMPDIR" -name '*.log' -o -path '*/topics/*' | head)
    expect_eq "" "$found" "files written for invalid names"
}

@test "valid topic names: 200 bytes, dots, dashes and underscores" {
    long=$(printf 'b%.0s' {1..200})
    for name in "$long" 'a.b_c-D9' '...' '.hidden' 'x..y' '0'; do
        ok pp-commit -q -t "$name" '{"a":1}'
        expect_output 1 pp-length "$name"
        expect_output '{"a":1}' pp-range "$name" --format body
    done
}

@test "--quiet and -q print nothing but commit" {
    expect_output "" pp-commit --quiet -t t 1 2
    printf '3\n' >"$BATS_TEST_TMPDIR/in"
    expect_output "" pp-commit -q -t t <"$BATS_TEST_TMPDIR/in"
    expect_output "" pp-commit -q '{"topic":"t","body":4}'
    expect_output "1
2
3
4" pp-range t --format body
}

@test "--no-sync and PIPEPROC_SYNC=0 still commit" {
    expect_output "1000-0" at 1000 pp-commit --no-sync -t t 1
    expect_output "1000-1" env PIPEPROC_SYNC=0 PIPEPROC_NOW_MS=1000 pp-commit -t t 2
    printf '3\n' >"$BATS_TEST_TMPDIR/in"
    expect_output "1000-2" at 1000 pp-commit --no-sync -t t <"$BATS_TEST_TMPDIR/in"
    expect_output "1
2
3" pp-range t --format body
}

@test "-L and --location select the store" {
    other="$BATS_TEST_TMPDIR/other"
    expect_output "1000-0" at 1000 pp-commit -L "$other" -t t 1
    expect_output "1000-1" at 1000 pp-commit --location "$other" -t t 2
    expect_output 2 pp-length -L "$other" t
    must_fail 1 invalid_topic pp-length t
}

@test "usage errors exit 2 with an error line" {
    must_fail 2 pp-commit --no-such-option -t t 1
    stderr_is_error_line pp-commit
    must_fail 2 pp-commit -t
    stderr_is_error_line pp-commit
    must_fail 2 pp-range t --no-such-option
    must_fail 2 pp-length --no-such-option t
    must_fail 2 pp-check --no-such-option
    nothing_committed t
}

@test "--help and --version exit 0 for every tool" {
    for tool in pp pp-commit pp-range pp-length pp-check; do
        ok "$tool" --help
        [[ -n $output ]] || pp_fail "$tool --help printed nothing on stdout"
        ok "$tool" --version
        [[ $output =~ [0-9]+\.[0-9]+ ]] || pp_fail "$tool --version printed no version:" "$output"
    done
    ok pp-commit --help
    [[ $output == *--atomic* ]] || pp_fail "pp-commit --help does not mention --atomic:" "$output"
}

@test "pp commit dispatches to pp-commit: arguments, stdin and exit codes" {
    expect_output "1000-0" at 1000 pp commit -t t '{"a":1}'
    printf '{"a":2}\n' >"$BATS_TEST_TMPDIR/in"
    expect_output "1000-1" at 1000 pp commit -t t <"$BATS_TEST_TMPDIR/in"
    expect_output '{"a":1}
{"a":2}' pp range t --format body
    expect_output 2 pp length t
    must_fail 65 invalid_json pp commit -t t '{bad'
    must_fail 1 invalid_topic pp range nosuch
}

@test "pp help lists the tools" {
    ok pp help
    for tool in commit range length check; do
        grep -Eq "(^|[^a-z])(pp-)?$tool([^a-z]|$)" <<<"$output" ||
            pp_fail "pp help does not list $tool:" "$output"
    done
}

@test "pp with an unknown tool exits 2" {
    must_fail 2 pp nosuchtool
    [[ $stderr == *nosuchtool* ]] || pp_fail "stderr does not name the tool:" "$stderr"
}

@test "stdin is committed as it arrives: the first log is readable while input is open" {
    fifo="$BATS_TEST_TMPDIR/in"
    mkfifo "$fifo"
    pp-commit -t t <"$fifo" >"$BATS_TEST_TMPDIR/ids" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
    pid=$!
    PP_BG_PIDS+=("$pid")
    exec 4>"$fifo"
    echo '{"a":1}' >&4
    wait_until 5 length_is t 1
    kill -0 "$pid" || pp_fail "pp-commit exited before its input ended"
    expect_output '{"a":1}' pp-range t --format body
    echo '{"a":2}' >&4
    wait_until 5 length_is t 2
    exec 4>&-
    wait_pid 10 "$pid"
    expect_eq 0 "$status" "pp-commit exit code (stderr: $(cat "$BATS_TEST_TMPDIR/err"))"
    expect_eq 2 "$(line_count "$BATS_TEST_TMPDIR/ids")" "ids printed"
}

@test "a slow producer pipeline: the first log is readable before the producer ends" {
    (echo '{"a":1}'; sleep 1; echo '{"a":2}') | pp-commit -q -t t 3>&- &
    pid=$!
    PP_BG_PIDS+=("$pid")
    # The producer sleeps 1 s before its second line: the first must show up alone.
    wait_until 5 length_is t 1
    wait_pid 10 "$pid"
    expect_eq 0 "$status" "pipeline exit code"
    expect_output 2 pp-length t
}
