#!/usr/bin/env bats
# Procs under SIGKILL: a loop of `pp-proc` + `pp-ack --commit` killed at random moments.
# After every kill the store is clean (pp-check), and the proc's acks and the logs committed
# with them agree exactly — no output without its ack, no ack without its output
# (CONTRACT.md §6 pp-ack: "Either both happen or neither"); a claim left open by the dead
# loop is reclaimed (pp-reclaim, or --reclaim-timeout) and processing goes on where it
# stopped, ending with every input exactly once, in order.
# PP_CRASH_SEED=N replays a run; PP_CRASH_ITERATIONS=N changes the number of kills.

load helpers

setup() {
    pp_setup
    seed=${PP_CRASH_SEED:-$(((RANDOM << 15) | RANDOM))}
    RANDOM=$seed
    echo "# crash seed: $seed (PP_CRASH_SEED=$seed replays it)"
    iterations=${PP_CRASH_ITERATIONS:-20}
}

# random_sleep: 10-200 ms.
random_sleep() {
    sleep "0.$(printf '%03d' $((RANDOM % 191 + 10)))"
}

# start_group CMD...: run CMD as its own process group (its children included), detached
# from this shell so that its death by SIGKILL is not reported as a job; sets $group.
start_group() {
    group=$(setsid "$@" </dev/null >/dev/null 2>&1 3>&- & echo $!)
    PP_BG_GROUPS+=("$group")
}

# kill_group: SIGKILL the whole group, then wait until none of it is left.
kill_group() {
    kill -9 -- "-$group" 2>/dev/null || true
    wait_until 5 group_gone "$group"
}

# group_gone PGID: no process of the group is left but zombies.
group_gone() {
    if command -v ps >/dev/null; then
        ! ps -o stat= -s "$1" | grep -qv '^Z'
    else
        ! kill -0 -- "-$1" 2>/dev/null
    fi
}

# commit_inputs N: N logs {"i":0}..{"i":N-1} to topic in; every 4th one (i % 4 == 3) also
# has "poison":true (only the dead-letter loop treats it differently).
commit_inputs() {
    seq 0 $(($1 - 1)) | awk '{ if ($1 % 4 == 3) printf "{\"i\":%d,\"poison\":true}\n", $1; else printf "{\"i\":%d}\n", $1 }' |
        pp-commit -q -t in
    pp-range in --format body >"$BATS_TEST_TMPDIR/in.bodies"
    pp-range in --format id >"$BATS_TEST_TMPDIR/in.ids"
}

# The loop PROC FAILED [PP-PROC OPTIONS...]: claim one log of `in` at a time and ack it with
# --commit of its body to topic out. With POISON=1 in the environment, a claimed body that
# says "poison" is never acked (the loop claims again: an automatic reclaim).
# Any unexpected exit code is written to FAILED.
write_loop() {
    cat >"$BATS_TEST_TMPDIR/loop.sh" <<'EOF'
proc=$1 failed=$2
shift 2
while :; do
    rc=0
    body=$(pp-proc in -n "$proc" --format body "$@") || rc=$?
    ((rc == 0)) || { echo "pp-proc exited $rc" >"$failed"; exit 1; }
    if [[ -z $body ]]; then
        sleep 0.01
        continue
    fi
    if [[ ${POISON:-0} == 1 && $body == *poison* ]]; then
        continue
    fi
    rc=0
    pp-ack "$proc" --commit -t out "$body" >/dev/null || rc=$?
    ((rc == 0)) || { echo "pp-ack --commit exited $rc for $body" >"$failed"; exit 1; }
done
EOF
}

# acked_count PROC: sets $a to how many logs of `in` PROC has acked (it acks them in order
# from :0), from its lastAckedRange, and $state to its pp-procs inspect line ({} while the
# proc does not exist yet: the loop was killed before its first claim).
acked_count() {
    local acked
    if ! state=$(pp-procs inspect "$1" 2>"$BATS_TEST_TMPDIR/inspect.err"); then
        grep -q '^pp-procs: error: invalid_proc:' "$BATS_TEST_TMPDIR/inspect.err" ||
            pp_fail "pp-procs inspect $1 failed: $(cat "$BATS_TEST_TMPDIR/inspect.err")" || return 1
        state='{}'
        a=0
        return 0
    fi
    acked=$(jq -r .lastAckedRange <<<"$state")
    if [[ -z $acked ]]; then
        a=0
    else
        a=$((${acked##*-} + 1))
    fi
}

# verify_acked_out A: topic out holds exactly the bodies of the first A inputs, in order.
verify_acked_out() {
    local a=$1 dir="$BATS_TEST_TMPDIR/verify"
    mkdir -p "$dir"
    local n
    n=$(topic_length_or_none out) || return 1
    [[ $n == none ]] && n=0
    expect_eq "$a" "$n" "logs in out vs logs acked ($state)" || return 1
    head -n "$a" "$BATS_TEST_TMPDIR/in.bodies" >"$dir/want"
    if ((n > 0)); then pp-range out --format body >"$dir/got"; else : >"$dir/got"; fi
    cmp -s "$dir/want" "$dir/got" ||
        pp_fail "out is not the first $a inputs in order" "$(diff "$dir/want" "$dir/got" | head -20)"
}

@test "kill -9 of a pp-proc + pp-ack --commit loop: acks and outputs agree; every input once" {
    local n=500 i a open_claims=0 reclaimed_by_hand=0 claimed acked
    commit_inputs "$n"
    write_loop
    local failed="$BATS_TEST_TMPDIR/loop.failed"
    for ((i = 0; i < iterations; i++)); do
        start_group bash "$BATS_TEST_TMPDIR/loop.sh" p "$failed" --reclaim-timeout 200 --max-reclaims -1
        random_sleep
        kill_group
        [[ ! -e $failed ]] || pp_fail "iteration $i: $(cat "$failed")"
        ok pp-check
        acked_count p || return 1
        verify_acked_out "$a" || pp_fail "iteration $i (seed $seed)"
        claimed=$(jq -r '.lastClaimedRange // ""' <<<"$state")
        acked=$(jq -r '.lastAckedRange // ""' <<<"$state")
        if [[ $claimed != "$acked" ]]; then
            # A claim left open by the dead loop: the log after the acked ones.
            open_claims=$((open_claims + 1))
            expect_eq "$(sed -n "$((a + 1))p" "$BATS_TEST_TMPDIR/in.ids")" "${claimed%%..*}" "open claim after iteration $i"
            if ((i % 2 == 0)); then
                # By hand: back to the previous claim, which is the last acked one.
                # (Before any ack that is an empty line: $output drops the newline.)
                ok pp-reclaim p
                expect_eq "$acked" "$output" "pp-reclaim after iteration $i"
                reclaimed_by_hand=$((reclaimed_by_hand + 1))
            fi
            # Otherwise the next loop's pp-proc reclaims it after 200 ms.
        fi
    done
    echo "# $iterations kills; $a of $n logs done before the last; $open_claims left a claim open ($reclaimed_by_hand reclaimed by pp-reclaim)" >&3
    # Run to the end: every input exactly once, in order.
    start_group bash "$BATS_TEST_TMPDIR/loop.sh" p "$failed"
    wait_until 40 length_is out "$n"
    wait_until 5 pp-wait p --timeout 0
    kill_group
    [[ ! -e $failed ]] || pp_fail "final run: $(cat "$failed")"
    ok pp-check
    acked_count p
    expect_eq "$n" "$a" "logs acked at the end"
    verify_acked_out "$n"
    expect_eq 0 "$(jq -r .lag <<<"$state")" "lag at the end"
}

@test "a claim left open by a killed process is reclaimed after --reclaim-timeout, and only then" {
    commit_inputs 3
    # A process that claims and dies before it acks.
    ok pp-proc in -n p --reclaim-timeout 1000 --format id
    local first=$output
    # Nothing new while the claim is open; the same log once the timeout ran out.
    expect_output "" pp-proc in -n p --format id
    ok pp-proc in -n p --wait 5000 --format id
    expect_eq "$first" "$output" "log claimed after the reclaim timeout"
    ok pp-ack p --commit -t out '{"i":0}'
    expect_output "$(sed -n 2p "$BATS_TEST_TMPDIR/in.ids")" pp-proc in -n p --format id
}

# verify_dead_letter A: the first A inputs are each exactly once in out (as the body) or in
# the dead-letter topic p.dead (as {"id","topic","proc","reclaims":2,"body"}), in order
# within each; every poison input is in p.dead.
verify_dead_letter() {
    local a=$1 k lo=0 ld=0 body id want_dead
    local -a ins ids outs deads
    mapfile -t ins <"$BATS_TEST_TMPDIR/in.bodies"
    mapfile -t ids <"$BATS_TEST_TMPDIR/in.ids"
    mapfile -t outs < <(pp-range out --format body 2>/dev/null)
    mapfile -t deads < <(pp-range p.dead --format body 2>/dev/null)
    expect_eq "$a" "$((${#outs[@]} + ${#deads[@]}))" "logs in out + p.dead vs logs acked ($state)" || return 1
    for ((k = 0; k < a; k++)); do
        body=${ins[k]}
        id=${ids[k]}
        want_dead="{\"id\":\"$id\",\"topic\":\"in\",\"proc\":\"p\",\"reclaims\":2,\"body\":$body}"
        if ((lo < ${#outs[@]})) && [[ ${outs[lo]} == "$body" ]]; then
            [[ $body != *poison* ]] || pp_fail "poison input $k was acked into out"
            lo=$((lo + 1))
        elif ((ld < ${#deads[@]})) && [[ ${deads[ld]} == "$want_dead" ]]; then
            ld=$((ld + 1))
        else
            pp_fail "input $k ($body) is neither next in out (${outs[lo]:-none}) nor next in p.dead (${deads[ld]:-none})"
            return 1
        fi
    done
}

@test "kill -9 of a loop that never acks poison logs: dead letters and outputs agree with the acks" {
    local n=96 i a
    commit_inputs "$n"
    write_loop
    local failed="$BATS_TEST_TMPDIR/loop.failed"
    export POISON=1
    for ((i = 0; i < iterations; i++)); do
        start_group bash "$BATS_TEST_TMPDIR/loop.sh" p "$failed" \
            --reclaim-timeout 50 --max-reclaims 2 --on-max-reclaims dead-letter
        random_sleep
        kill_group
        [[ ! -e $failed ]] || pp_fail "iteration $i: $(cat "$failed")"
        ok pp-check
        acked_count p || return 1
        verify_dead_letter "$a" || pp_fail "iteration $i (seed $seed)"
    done
    echo "# $iterations kills; $a of $n logs done before the last" >&3
    start_group bash "$BATS_TEST_TMPDIR/loop.sh" p "$failed"
    wait_until 40 pp-wait p --timeout 0
    kill_group
    [[ ! -e $failed ]] || pp_fail "final run: $(cat "$failed")"
    ok pp-check
    acked_count p
    expect_eq "$n" "$a" "logs acked at the end"
    verify_dead_letter "$n"
    expect_eq 0 "$(jq -r .lag <<<"$state")" "lag at the end"
    # Every poison input is dead (verify_dead_letter); the others can be too only if a kill
    # hit them twice while claimed.
    local dead
    dead=$(pp-length p.dead)
    ((dead >= n / 4)) || pp_fail "only $dead dead letters, $((n / 4)) poison inputs"
    echo "# $dead dead letters ($((n / 4)) poison)" >&3
}
