#!/usr/bin/env bats
# Many processes on one store at once: concurrent pp-commit processes on one topic, and
# readers (pp-range, pp-range --follow) running while they write.

load helpers

# The writer W PROCS PER: PROCS pp-commit processes one after another, each committing PER
# bodies {"w":W,"i":I} from stdin to topic T, I counting up from 0.
write_writer() {
    cat >"$BATS_TEST_TMPDIR/writer.sh" <<'EOF'
w=$1 procs=$2 per=$3
for ((p = 0; p < procs; p++)); do
    seq $((p * per)) $((p * per + per - 1)) | awk -v w="$w" '{ printf "{\"w\":%d,\"i\":%d}\n", w, $1 }' |
        pp-commit -q -t T || { echo "writer $w: pp-commit exited $?" >&2; exit 1; }
done
EOF
}

# start_writers N PROCS PER: N writers in the background; sets writer_pids.
start_writers() {
    local w
    writer_pids=()
    for ((w = 0; w < $1; w++)); do
        timeout $((120 * PP_SLOW)) bash "$BATS_TEST_TMPDIR/writer.sh" "$w" "$2" "$3" \
            </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/writer.$w.err" 3>&- &
        writer_pids+=($!)
        PP_BG_PIDS+=($!)
    done
}

wait_writers() {
    local w
    for w in "${!writer_pids[@]}"; do
        wait_pid $((120 * PP_SLOW)) "${writer_pids[w]}"
        expect_eq 0 "$status" "exit code of writer $w ($(cat "$BATS_TEST_TMPDIR/writer.$w.err"))"
    done
}

any_alive() {
    local pid
    for pid; do kill -0 "$pid" 2>/dev/null && return 0; done
    return 1
}

# expected_bodies N PROCS PER: every body the writers commit, sorted.
expected_bodies() {
    local w
    for ((w = 0; w < $1; w++)); do
        seq 0 $(($2 * $3 - 1)) | awk -v w="$w" '{ printf "{\"w\":%d,\"i\":%d}\n", w, $1 }'
    done | sort
}

@test "4 writers x 500 commits on one topic: sequences 0..1999, each body once, a follower sees all" {
    write_writer
    bg_start "$BATS_TEST_TMPDIR/follow.out" "$BATS_TEST_TMPDIR/follow.err" pp-range T -f
    reader=$bg_pid
    # 500 pp-commit processes per writer, one log each.
    start_writers 4 500 1
    wait_writers
    expect_output 2000 pp-length T

    pp-range T --format id >"$BATS_TEST_TMPDIR/ids"
    expect_eq 2000 "$(line_count "$BATS_TEST_TMPDIR/ids")" "ids printed"
    ids_dense "$BATS_TEST_TMPDIR/ids" || pp_fail "sequences are not exactly 0..1999"

    pp-range T --format body >"$BATS_TEST_TMPDIR/bodies"
    diff -u <(expected_bodies 4 500 1) <(sort "$BATS_TEST_TMPDIR/bodies") ||
        pp_fail "the bodies are not each writer's bodies exactly once"
    # Each writer commits one process after another: its bodies keep their order.
    awk -F'[:,}]' '{ w = $2; i = $4 + 0; if ((w in last) && i <= last[w]) { printf "writer %s: i=%d after %d (seq %d)\n", w, i, last[w], NR - 1; exit 1 } last[w] = i }' \
        "$BATS_TEST_TMPDIR/bodies" >&2 || pp_fail "a writer's logs are out of order"

    wait_until 20 has_lines "$BATS_TEST_TMPDIR/follow.out" 2000
    kill -0 "$reader" || pp_fail "the follower exited:" "$(cat "$BATS_TEST_TMPDIR/follow.err")"
    bg_stop "$reader"
    pp-range T >"$BATS_TEST_TMPDIR/all"
    diff -u "$BATS_TEST_TMPDIR/all" "$BATS_TEST_TMPDIR/follow.out" >&2 ||
        pp_fail "the follower did not print every log exactly once, in order"
    expect_eq "" "$(cat "$BATS_TEST_TMPDIR/follow.err")" "follower stderr"
}

@test "readers during concurrent commits always see a dense, growing prefix" {
    write_writer
    at_least=0
    snapshots=0
    start_writers 4 200 1
    snap="$BATS_TEST_TMPDIR/snap"
    while any_alive "${writer_pids[@]}" || [[ $snapshots == 0 ]]; do
        n=$(topic_length_or_none T)
        [[ $n == none ]] && { ((at_least == 0)) || pp_fail "topic T vanished"; sleep 0.01; continue; }
        ((n >= at_least)) || pp_fail "pp-length went back from $at_least to $n"
        pp-range T --format id >"$snap"
        ids_dense "$snap" || pp_fail "a reader saw a gap or disorder"
        m=$(line_count "$snap")
        ((m >= n)) || pp_fail "pp-range printed $m logs after pp-length said $n"
        at_least=$m
        snapshots=$((snapshots + 1))
        ((snapshots < 2000)) || break
    done
    wait_writers
    expect_output 800 pp-length T
    echo "# $snapshots snapshots taken while writing"
}

@test "concurrent --atomic multi-topic batches are ordered the same in every topic" {
    cat >"$BATS_TEST_TMPDIR/abc.sh" <<'EOF'
w=$1
for ((k = 0; k < 25; k++)); do
    printf '{"topic":"a","body":{"w":%d,"k":%d}}\n{"topic":"b","body":{"w":%d,"k":%d}}\n{"topic":"c","body":{"w":%d,"k":%d}}\n' \
        "$w" "$k" "$w" "$k" "$w" "$k" | pp-commit --atomic -q || { echo "writer $w: pp-commit exited $?" >&2; exit 1; }
done
EOF
    writer_pids=()
    for w in 0 1 2 3; do
        timeout 120 bash "$BATS_TEST_TMPDIR/abc.sh" "$w" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/writer.$w.err" 3>&- &
        writer_pids+=($!)
        PP_BG_PIDS+=($!)
    done
    wait_writers
    for t in a b c; do
        pp-range "$t" >"$BATS_TEST_TMPDIR/logs.$t"
        expect_eq 100 "$(line_count "$BATS_TEST_TMPDIR/logs.$t")" "logs in $t"
    done
    # Same ids (shared timestamp, same sequence) and same bodies, line for line.
    diff -u "$BATS_TEST_TMPDIR/logs.a" "$BATS_TEST_TMPDIR/logs.b" >&2 || pp_fail "a and b differ"
    diff -u "$BATS_TEST_TMPDIR/logs.a" "$BATS_TEST_TMPDIR/logs.c" >&2 || pp_fail "a and c differ"
    pp-range a --format id >"$BATS_TEST_TMPDIR/ids"
    ids_dense "$BATS_TEST_TMPDIR/ids" || pp_fail "sequences of a are not dense"
    ok pp-check
}
