#!/usr/bin/env bats
# Procs driven by many processes at once (CONTRACT.md §1 "any number of tools may use one store
# at once", §6 pp-proc/pp-ack): concurrent workers get every log exactly once, in order; no
# two pp-proc calls ever get the same claim; an ack and a reclaim, or two acks, of one claim
# never both win. Every loop is bounded by a deadline.

load helpers

# commit_inputs N: N logs {"i":0}..{"i":N-1} to topic in, in one commit.
commit_inputs() {
    seq 0 $(($1 - 1)) | awk '{ printf "{\"i\":%d}\n", $1 }' | pp-commit -q -t in
}

# The worker W PROC TARGET DEADLINE DIR [PP-PROC OPTIONS...]: until topic out.PROC holds
# TARGET logs (or the epoch second DEADLINE passes), claim logs of `in` for PROC and ack each
# claim with --commit of the claimed bodies to out.PROC. Appends every pp-proc output to
# DIR/claims.PROC.W and every pp-ack output to DIR/acks.PROC.W; any unexpected exit code is
# written to DIR/fail.PROC.W.
write_worker() {
    cat >"$BATS_TEST_TMPDIR/worker.sh" <<'EOF'
w=$1 proc=$2 target=$3 deadline=$4 dir=$5
shift 5
fail() { echo "worker $w of $proc: $*" >>"$dir/fail.$proc.$w"; exit 1; }
while :; do
    (($(date +%s) < deadline)) || fail "deadline passed"
    n=$(pp-length "out.$proc" 2>/dev/null) || n=0
    ((n >= target)) && exit 0
    rc=0
    claimed=$(pp-proc in -n "$proc" --reclaim-timeout -1 --wait 500 "$@") || rc=$?
    ((rc == 124)) && continue
    ((rc == 0)) || fail "pp-proc exited $rc"
    [[ -n $claimed ]] || continue
    printf '%s\n' "$claimed" >>"$dir/claims.$proc.$w"
    # Each line is {"id":"...","body":{"i":N}}: commit the bodies, in order.
    bodies=()
    while IFS= read -r line; do
        b=${line#*\"body\":}
        bodies+=("${b%\}}")
    done <<<"$claimed"
    rc=0
    acked=$(pp-ack "$proc" --commit -t "out.$proc" "${bodies[@]}") || rc=$?
    ((rc == 0)) || fail "pp-ack --commit exited $rc (claimed: $claimed)"
    printf '%s\n' "$acked" >>"$dir/acks.$proc.$w"
done
EOF
}

# start_workers N PROC TARGET [PP-PROC OPTIONS...]: N workers for PROC; adds to worker_pids.
start_workers() {
    local n=$1 proc=$2 target=$3 w
    shift 3
    local deadline=$(($(date +%s) + 45 * PP_SLOW))
    for ((w = 0; w < n; w++)); do
        timeout $((60 * PP_SLOW)) bash "$BATS_TEST_TMPDIR/worker.sh" "$w" "$proc" "$target" "$deadline" "$BATS_TEST_TMPDIR" "$@" \
            </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/worker.$proc.$w.err" 3>&- &
        worker_pids+=($!)
        PP_BG_PIDS+=($!)
    done
}

wait_workers() {
    local i
    for i in "${!worker_pids[@]}"; do
        wait_pid $((60 * PP_SLOW)) "${worker_pids[i]}"
        expect_eq 0 "$status" "exit code of worker $i: $(cat "$BATS_TEST_TMPDIR"/fail.* "$BATS_TEST_TMPDIR"/worker.*.err 2>/dev/null)"
    done
}

# verify_exactly_once PROC N: out.PROC holds the N inputs' bodies exactly once, in order;
# the workers' claims together are every input id exactly once.
verify_exactly_once() {
    local proc=$1 n=$2 dir="$BATS_TEST_TMPDIR/verify.$1"
    mkdir -p "$dir"
    expect_output "$n" pp-length "out.$proc"
    pp-range in --format body >"$dir/want"
    pp-range "out.$proc" --format body >"$dir/got"
    cmp -s "$dir/want" "$dir/got" ||
        pp_fail "out.$proc is not the inputs exactly once in order" "$(diff "$dir/want" "$dir/got" | head -20)"
    pp-range in --format id >"$dir/ids"
    cat "$BATS_TEST_TMPDIR"/claims."$proc".* | sed 's/^{"id":"\([^"]*\)".*/\1/' | sort -t- -k2,2n >"$dir/claimed"
    if ! cmp -s "$dir/ids" "$dir/claimed"; then
        pp_fail "claims of $proc are not every input exactly once (a claim handed out twice?)" \
            "$(diff "$dir/ids" "$dir/claimed" | head -20)"
        return 1
    fi
    ok pp-procs inspect "$proc"
    expect_eq "0 0" "$(jq -r '"\(.lag) \(.reclaims)"' <<<"$output")" "lag and reclaims of $proc"
}

@test "3 workers on one proc, 300 logs: out holds each input exactly once, in order" {
    commit_inputs 300
    write_worker
    worker_pids=()
    start_workers 3 worker 300 --format log
    wait_workers
    verify_exactly_once worker 300
    ok timeout 10 pp-wait worker --timeout 0
    # The work was shared (not a proof of contention, but a sign of it): report it.
    local w
    for w in 0 1 2; do
        echo "# worker $w claimed $(line_count "$BATS_TEST_TMPDIR/claims.worker.$w") logs" >&3
    done
    # Every ack printed the claimed id, then the id of the committed log.
    cat "$BATS_TEST_TMPDIR"/acks.worker.* | awk 'NR % 2 == 0' | sort -t- -k2,2n >"$BATS_TEST_TMPDIR/out_ids"
    pp-range out.worker --format id >"$BATS_TEST_TMPDIR/out_ids_want"
    cmp -s "$BATS_TEST_TMPDIR/out_ids" "$BATS_TEST_TMPDIR/out_ids_want" ||
        pp_fail "ids printed by pp-ack --commit are not the ids of out.worker"
}

@test "two procs with 2 workers each, one of them claiming 7 at a time: both see every log once" {
    commit_inputs 150
    write_worker
    worker_pids=()
    start_workers 2 one 150 --format log
    start_workers 2 seven 150 --format log -c 7
    wait_workers
    verify_exactly_once one 150
    verify_exactly_once seven 150
    # seven: 21 claims of 7 logs and one of the 3 left.
    local acked
    acked=$(cat "$BATS_TEST_TMPDIR"/acks.seven.* | grep -c '\.\.')
    expect_eq 22 "$acked" "claims of 7 (or 6) logs acked by proc seven"
}

# burst N CMD...: run N copies of CMD at once; their outputs go to $BATS_TEST_TMPDIR/burst.K
# and exit codes to $BATS_TEST_TMPDIR/burst.K.rc.
burst() {
    local n=$1 k
    shift
    rm -f "$BATS_TEST_TMPDIR"/burst.*
    local pids=()
    for ((k = 0; k < n; k++)); do
        (
            rc=0
            "$@" >"$BATS_TEST_TMPDIR/burst.$k" 2>"$BATS_TEST_TMPDIR/burst.$k.err" || rc=$?
            echo "$rc" >"$BATS_TEST_TMPDIR/burst.$k.rc"
        ) 3>&- &
        pids+=($!)
        PP_BG_PIDS+=($!)
    done
    for k in "${pids[@]}"; do wait_pid 30 "$k"; done
}

@test "8 concurrent pp-proc on one proc: exactly one gets the claim, the others print nothing" {
    commit_inputs 10
    local round k winners
    for ((round = 0; round < 8; round++)); do
        burst 8 pp-proc in -n p --format id
        winners=0
        for ((k = 0; k < 8; k++)); do
            expect_eq 0 "$(cat "$BATS_TEST_TMPDIR/burst.$k.rc")" "exit code of pp-proc $k: $(cat "$BATS_TEST_TMPDIR/burst.$k.err")"
            if [[ -s $BATS_TEST_TMPDIR/burst.$k ]]; then
                winners=$((winners + 1))
                expect_eq "$(pp-range in -s ":$round" -l 1 --format id)" "$(cat "$BATS_TEST_TMPDIR/burst.$k")" \
                    "claim of round $round"
            fi
        done
        expect_eq 1 "$winners" "pp-proc calls that got a claim in round $round"
        ok pp-ack p
    done
}

@test "8 concurrent pp-ack --commit of one claim: exactly one wins, its bodies committed once" {
    commit_inputs 10
    local round k winners
    for ((round = 0; round < 6; round++)); do
        ok pp-proc in -n p
        burst 8 pp-ack p --commit -t out "{\"round\":$round}"
        winners=0
        for ((k = 0; k < 8; k++)); do
            case $(cat "$BATS_TEST_TMPDIR/burst.$k.rc") in
            0) winners=$((winners + 1)) ;;
            1) grep -Eq '^pp-ack: error: nothing_to_ack:' "$BATS_TEST_TMPDIR/burst.$k.err" ||
                pp_fail "loser $k: $(cat "$BATS_TEST_TMPDIR/burst.$k.err")" ;;
            *) pp_fail "pp-ack $k exited $(cat "$BATS_TEST_TMPDIR/burst.$k.rc"): $(cat "$BATS_TEST_TMPDIR/burst.$k.err")" ;;
            esac
        done
        expect_eq 1 "$winners" "pp-ack calls that succeeded in round $round"
        expect_output "$((round + 1))" pp-length out
    done
    expect_output '{"round":0}
{"round":1}
{"round":2}
{"round":3}
{"round":4}
{"round":5}' pp-range out --format body
}

@test "pp-ack and pp-reclaim racing on one claim: exactly one wins, and the state says which" {
    commit_inputs 40
    local round want_next ack_rc reclaim_rc next acked=0
    for ((round = 0; round < 15; round++)); do
        ok pp-proc in -n p --max-reclaims -1 --format id
        local claimed=$output
        (
            rc=0
            pp-ack p >/dev/null 2>"$BATS_TEST_TMPDIR/ack.err" || rc=$?
            echo "$rc" >"$BATS_TEST_TMPDIR/ack.rc"
        ) 3>&- &
        local a=$!
        (
            rc=0
            pp-reclaim p >/dev/null 2>"$BATS_TEST_TMPDIR/reclaim.err" || rc=$?
            echo "$rc" >"$BATS_TEST_TMPDIR/reclaim.rc"
        ) 3>&- &
        local r=$!
        PP_BG_PIDS+=("$a" "$r")
        wait_pid 30 "$a"
        wait_pid 30 "$r"
        [[ -e $BATS_TEST_TMPDIR/ack.rc && -e $BATS_TEST_TMPDIR/reclaim.rc ]] ||
            pp_fail "pp-ack or pp-reclaim did not finish"
        ack_rc=$(cat "$BATS_TEST_TMPDIR/ack.rc")
        reclaim_rc=$(cat "$BATS_TEST_TMPDIR/reclaim.rc")
        if [[ $ack_rc == 0 ]]; then
            expect_eq 1 "$reclaim_rc" "pp-reclaim after the ack won"
            grep -q '^pp-reclaim: error: nothing_to_reclaim:' "$BATS_TEST_TMPDIR/reclaim.err" ||
                pp_fail "pp-reclaim: $(cat "$BATS_TEST_TMPDIR/reclaim.err")"
            acked=$((acked + 1))
        else
            expect_eq "1 0" "$ack_rc $reclaim_rc" "exit codes of pp-ack and pp-reclaim"
            grep -q '^pp-ack: error: nothing_to_ack:' "$BATS_TEST_TMPDIR/ack.err" ||
                pp_fail "pp-ack: $(cat "$BATS_TEST_TMPDIR/ack.err")"
        fi
        # The next claim: the following log after an ack, the same log after a reclaim.
        want_next=$(pp-range in -s ":$acked" -l 1 --format id)
        ok pp-proc in -n p --format id
        next=$output
        expect_eq "$want_next" "$next" "claim after round $round (claimed $claimed, ack exit $ack_rc)"
        ok pp-reclaim p
        rm -f "$BATS_TEST_TMPDIR"/ack.* "$BATS_TEST_TMPDIR"/reclaim.*
    done
    echo "# $acked of 15 races won by pp-ack" >&3
}
