#!/usr/bin/env bats
# The examples/ scripts run as documented.

load helpers

@test "the CI job example processes every shard exactly once" {
    ok env SHARDS=12 WORKERS=3 bash "$BATS_TEST_DIRNAME/../../examples/ci/ci-job.sh"
    [[ $output == *"results: 12 of 12 shards"* ]] || pp_fail "unexpected output" "$output"
    shards=$(pp-range results --format body | sed 's/.*"shard":\([0-9]*\).*/\1/' | sort -n | tr '\n' ' ')
    expect_eq "1 2 3 4 5 6 7 8 9 10 11 12 " "$shards" "shards done"
}

@test "the jq pipeline example filters and counts" {
    command -v jq >/dev/null || skip "jq is not installed"
    ok bash "$BATS_TEST_DIRNAME/../../examples/jq/pipeline.sh"
    expect_eq '{"user":"ana","slow_ms":310}
{"user":"cy","slow_ms":450}
{"ana":1,"bo":1,"cy":1}' "$output" "pipeline output"
}

@test "the cron example names a pp-gc command that runs" {
    line=$(grep -E '^\*/10' "$BATS_TEST_DIRNAME/../../examples/cron/pp-gc.cron")
    cmd=$(printf '%s' "$line" | awk '{for (i = 7; i <= NF; i++) printf "%s ", $i}' | sed 's/>>.*//')
    ok pp-commit -q -t t 1
    ok $cmd
    [[ $output == *'"topic":"t"'* ]] || pp_fail "no report for topic t" "$output"
}

@test "the progress line appears on a terminal and never in a pipe" {
    command -v script >/dev/null || skip "script(1) is not installed"
    seq 1 2000 >"$BATS_TEST_TMPDIR/in"
    ok bash -c "{ cat '$BATS_TEST_TMPDIR/in'; sleep 0.4; echo 0; } | pp-commit -t t 2>'$BATS_TEST_TMPDIR/err' >/dev/null"
    [[ ! -s $BATS_TEST_TMPDIR/err ]] || pp_fail "progress written to a non-terminal" "$(cat "$BATS_TEST_TMPDIR/err")"
    script -qc "{ cat '$BATS_TEST_TMPDIR/in'; sleep 0.4; echo 0; } | pp-commit -t u >/dev/null" /dev/null >"$BATS_TEST_TMPDIR/tty"
    grep -aq "pp-commit: [0-9]* logs" "$BATS_TEST_TMPDIR/tty" || pp_fail "no progress line on a terminal" "$(cat -v "$BATS_TEST_TMPDIR/tty")"
    script -qc "{ cat '$BATS_TEST_TMPDIR/in'; sleep 0.4; echo 0; } | pp-commit -q -t v" /dev/null >"$BATS_TEST_TMPDIR/quiet"
    ! grep -aq "logs," "$BATS_TEST_TMPDIR/quiet" || pp_fail "progress despite --quiet"
}
