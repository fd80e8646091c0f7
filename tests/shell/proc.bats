#!/usr/bin/env bats
# Procs from the shell: pp-proc, pp-ack, pp-reclaim, pp-procs and pp-wait (CONTRACT.md §3, §4,
# §6). Every test starts from topic `in` with nine logs of known ids, three per timestamp,
#   1000-0 1000-1 1000-2 | 2000-3 2000-4 2000-5 | 3000-6 3000-7 3000-8, body {"n":SEQ},
# and runs the proc tools at fixed clock times (`at MS`) unless it measures real waiting.

load helpers

setup() {
    pp_setup
    local ts n=0
    for ts in 1000 2000 3000; do
        at "$ts" pp-commit -q -t in "{\"n\":$n}" "{\"n\":$((n + 1))}" "{\"n\":$((n + 2))}"
        n=$((n + 3))
    done
}

# The contract's proc state fields, in its order (§3 Output).
PROC_FIELDS='["name","topic","status","offset","createdAt","lastClaimedAt","lastAckedAt","lastClaimedRange","previousClaimedRange","lastAckedRange","reclaims","maxReclaims","reclaimTimeout","onMaxReclaimsReached","lag","deadLetter"]'

# log_of SEQ: the line pp-proc prints for the setup log SEQ.
log_of() {
    printf '{"id":"%d-%d","body":{"n":%d}}' $((($1 / 3 + 1) * 1000)) "$1" "$1"
}

# id_of SEQ: the id of the setup log SEQ.
id_of() {
    printf '%d-%d' $((($1 / 3 + 1) * 1000)) "$1"
}

# state_is JSON_LINE WANT: JSON_LINE is one proc object whose first 16 keys are the
# contract's fields in its order, and those 16 fields (in that order) are exactly WANT.
state_is() {
    local got keys
    keys=$(jq -c '[keys_unsorted[:16]]|.[0]' <<<"$1") || {
        pp_fail "not one JSON object: $1"
        return 1
    }
    expect_eq "$(jq -c . <<<"$PROC_FIELDS")" "$keys" "proc state keys (order)" || return 1
    got=$(jq -c 'to_entries[:16]|from_entries' <<<"$1")
    expect_eq "$2" "$got" "proc state"
}

# field NAME FIELD: one field of `pp-procs inspect NAME`, as jq prints it (-r).
field() {
    pp-procs inspect "$1" | jq -r ".$2"
}

# expect_field NAME FIELD WANT
expect_field() {
    local got
    got=$(field "$1" "$2") || {
        pp_fail "pp-procs inspect $1 failed"
        return 1
    }
    expect_eq "$3" "$got" "$2 of proc $1"
}

# expect_empty_line CMD...: CMD exits 0 and prints exactly one empty line.
expect_empty_line() {
    local got_f="$BATS_TEST_TMPDIR/empty.out"
    status=0
    "$@" >"$got_f" 2>"$BATS_TEST_TMPDIR/empty.err" || status=$?
    ((status == 0)) || {
        pp_fail "command failed with exit $status: $*" "$(cat "$BATS_TEST_TMPDIR/empty.err")"
        return 1
    }
    cmp -s "$got_f" <(printf '\n') ||
        pp_fail "expected exactly one empty line from: $*" "--- got:" "$(od -c "$got_f" | head -5)"
}

# must_timeout CMD...: CMD exits 124 (a --wait/--timeout ran out) with an error line.
must_timeout() {
    must_fail 124 "$@" || return 1
    local tool
    tool=$(error_prefix_re "$@")
    stderr_is_error_line "$tool"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---------------------------------------------------------------------------------------
# Offsets

@test "offset '>' (the default): a new proc claims from the start of the topic" {
    expect_output "$(log_of 0)" at 5000 pp-proc in -n p
    expect_output "$(log_of 0)" at 5000 pp-proc in -n q -o '>'
    expect_field q offset '>'
    # Later logs follow one at a time, in order.
    ok at 5001 pp-ack p
    expect_output "$(log_of 1)" at 5002 pp-proc in -n p
}

@test "offset '\$>': only logs committed after the proc was created" {
    expect_output "" at 5000 pp-proc in -n p -o '$>'
    expect_field p offset '$>'
    expect_field p lag 0
    expect_output "" at 5001 pp-proc in -n p
    expect_output 6000-9 at 6000 pp-commit -t in '{"n":9}'
    expect_field p lag 1
    expect_output '{"id":"6000-9","body":{"n":9}}' at 6001 pp-proc in -n p
    # Created before the topic exists: the topic's first log is new.
    expect_output "" at 6002 pp-proc later -n q -o '$>'
    ok at 6003 pp-commit -t later '"first"'
    expect_output '{"id":"6003-0","body":"first"}' at 6004 pp-proc later -n q
}

@test "offset :N and an id: the logs after it" {
    expect_output "$(log_of 4)" at 5000 pp-proc in -n s -o :3
    expect_output "$(log_of 1)" at 5000 pp-proc in -n s1 -o :0
    expect_output "" at 5000 pp-proc in -n s8 -o :8
    expect_output "$(log_of 5)" at 5000 pp-proc in -n i -o 2000-4
    expect_output "$(log_of 3)" at 5000 pp-proc in -n i2 -o 1000-2
    expect_output "" at 5000 pp-proc in -n i8 -o 3000-8
    expect_field i8 lag 0
    expect_field s offset ':3'
    expect_field i offset '2000-4'
    # The proc goes on from there.
    ok at 5001 pp-ack s
    expect_output "$(log_of 5)" at 5002 pp-proc in -n s
    # A log committed later comes after a proc that started at the end.
    ok at 6000 pp-commit -t in '{"n":9}'
    expect_output '{"id":"6000-9","body":{"n":9}}' at 6001 pp-proc in -n s8
}

@test "offset timestamp: the logs at or after it" {
    expect_output "$(log_of 3)" at 5000 pp-proc in -n t2000 -o 2000
    expect_output "$(log_of 3)" at 5000 pp-proc in -n t1500 -o 1500
    expect_output "$(log_of 6)" at 5000 pp-proc in -n t3000 -o 3000
    expect_output "$(log_of 0)" at 5000 pp-proc in -n t0 -o 0
    expect_output "" at 5000 pp-proc in -n t3001 -o 3001
    expect_field t2000 offset 2000
    expect_field t2000 lag 6
    expect_field t3001 lag 0
    ok at 6000 pp-commit -t in '{"n":9}'
    expect_output '{"id":"6000-9","body":{"n":9}}' at 6001 pp-proc in -n t3001
}

@test "an offset that is no range bound: invalid_range_offset, and no proc is created" {
    must_fail 1 invalid_range_offset at 5000 pp-proc in -n p -o abc
    must_fail 1 invalid_range_offset at 5000 pp-proc in -n p -o 12-x
    must_fail 1 invalid_proc pp-procs inspect p
    expect_output "" pp-procs list
}

# ---------------------------------------------------------------------------------------
# COUNT and the settings of later calls

@test "-c COUNT claims up to COUNT logs; the ack prints FIRST..LAST" {
    expect_output "$(log_of 0)
$(log_of 1)
$(log_of 2)
$(log_of 3)" at 5000 pp-proc in -n p -c 4
    expect_field p lastClaimedRange 1000-0..2000-3
    expect_output 1000-0..2000-3 at 5001 pp-ack p
    # Fewer left than COUNT: what is left.
    expect_output "$(log_of 4)
$(log_of 5)
$(log_of 6)
$(log_of 7)
$(log_of 8)" at 5002 pp-proc in -n p --count 10
    expect_output 2000-4..3000-8 at 5003 pp-ack p
    expect_output "" at 5004 pp-proc in -n p -c 10
}

@test "a claim of one log: pp-ack prints its id; state fields still use first..last" {
    expect_output "$(log_of 0)" at 5000 pp-proc in -n p
    expect_field p lastClaimedRange 1000-0..1000-0
    expect_output 1000-0 at 5001 pp-ack p
    expect_field p lastAckedRange 1000-0..1000-0
    # -c 1 that finds one log is one log, too.
    expect_output "$(log_of 1)" at 5002 pp-proc in -n p -c 1
    expect_output 1000-1 at 5003 pp-ack p
}

@test "later calls may change COUNT, which stays with the proc" {
    expect_output "$(log_of 0)
$(log_of 1)" at 5000 pp-proc in -n p -c 2
    ok at 5001 pp-ack p
    # Without -c: the proc's COUNT.
    expect_output "$(log_of 2)
$(log_of 3)" at 5002 pp-proc in -n p
    ok at 5003 pp-ack p
    expect_output "$(log_of 4)
$(log_of 5)
$(log_of 6)" at 5004 pp-proc in -n p -c 3
    ok at 5005 pp-ack p
    expect_output "$(log_of 7)" at 5006 pp-proc in -n p -c 1
}

@test "later calls change nothing but COUNT: offset, max reclaims, timeout, strategy stay" {
    expect_output "$(log_of 4)" at 5000 pp-proc in -n p -o :3 --max-reclaims 3 --reclaim-timeout 700 \
        --on-max-reclaims continue
    ok at 5001 pp-ack p
    expect_output "$(log_of 5)" at 5002 pp-proc in -n p -o '>' --max-reclaims 7 --reclaim-timeout 90 \
        --on-max-reclaims disable
    ok pp-procs inspect p
    state_is "$output" '{"name":"p","topic":"in","status":"active","offset":":3","createdAt":5000,"lastClaimedAt":5002,"lastAckedAt":5001,"lastClaimedRange":"2000-5..2000-5","previousClaimedRange":"2000-4..2000-4","lastAckedRange":"2000-4..2000-4","reclaims":0,"maxReclaims":3,"reclaimTimeout":700,"onMaxReclaimsReached":"continue","lag":4,"deadLetter":""}'
    # The timeout is still 700: at 5100 (after the 90 given later) the claim is still open.
    expect_output "" at 5100 pp-proc in -n p
    expect_output "$(log_of 5)" at 5800 pp-proc in -n p
}

@test "nothing is printed (exit 0) while a claim is open, however often and with any COUNT" {
    expect_output "$(log_of 0)" at 5000 pp-proc in -n p
    expect_output "" at 5001 pp-proc in -n p
    expect_output "" at 5002 pp-proc in -n p -c 5
    expect_output "" at 5003 pp-proc in -n p --format id
    # The open claim is unchanged.
    expect_field p lastClaimedRange 1000-0..1000-0
    expect_field p lastClaimedAt 5000
    expect_output 1000-0 at 5004 pp-ack p
    expect_output "$(log_of 1)" at 5005 pp-proc in -n p -c 1
}

@test "nothing to claim at the end of the topic: nothing printed, exit 0" {
    expect_output "$(log_of 8)" at 5000 pp-proc in -n p -o :7
    ok at 5001 pp-ack p
    expect_output "" at 5002 pp-proc in -n p
    expect_output "" at 5003 pp-proc in -n p
    expect_field p lastClaimedRange 3000-8..3000-8
}

@test "--format body and --format id" {
    expect_output '{"n":0}
{"n":1}' at 5000 pp-proc in -n p -c 2 --format body
    ok at 5001 pp-ack p
    expect_output '2000-3
2000-4
2000-5' at 5002 pp-proc in -n q -o :2 -c 3 --format id
    expect_output '{"id":"1000-2","body":{"n":2}}' at 5003 pp-proc in -n p -c 1 --format log
    must_fail 2 pp-proc in -n r --format yaml
}

@test "a proc on a topic that does not exist yet claims its first log once committed" {
    expect_output "" at 5000 pp-proc nothere -n p
    ok at 6000 pp-commit -t nothere '{"x":1}'
    expect_output '{"id":"6000-0","body":{"x":1}}' at 6001 pp-proc nothere -n p
}

@test "invalid names: exit 2 (invalid_name), nothing created" {
    must_fail 2 invalid_name pp-proc 'bad topic' -n p
    must_fail 2 invalid_name pp-proc in -n 'bad/name'
    must_fail 2 invalid_name pp-proc in -n ..
    must_fail 2 invalid_name pp-ack 'a b'
    must_fail 2 invalid_name pp-reclaim 'a b'
    must_fail 2 invalid_name pp-procs inspect 'a b'
    expect_output "" pp-procs list
}

@test "usage errors: missing -n, missing topic, bad --on-max-reclaims, -c 0, --dead-letter alone" {
    must_fail 2 pp-proc in
    must_fail 2 pp-proc -n p
    must_fail 2 pp-proc in -n p --on-max-reclaims explode
    must_fail 2 pp-proc in -n p -c 0
    must_fail 2 pp-proc in -n p --dead-letter dl
    must_fail 2 pp-proc in -n p --bogus
    must_fail 2 pp-ack
    must_fail 2 pp-reclaim
    must_fail 2 pp-procs
    must_fail 2 pp-procs frobnicate p
    must_fail 1 invalid_proc pp-procs inspect p
}

# ---------------------------------------------------------------------------------------
# pp-ack

@test "nothing_to_ack: no claim yet, after an ack, and for a proc that found nothing" {
    ok at 5000 pp-proc in -n p -o :8
    must_fail 1 nothing_to_ack at 5001 pp-ack p
    expect_output "$(log_of 0)" at 5002 pp-proc in -n q
    expect_output 1000-0 at 5003 pp-ack q
    must_fail 1 nothing_to_ack at 5004 pp-ack q
    must_fail 1 nothing_to_ack at 5005 pp-ack q --commit -t out '{"r":1}'
    nothing_committed out
    expect_field q lastAckedAt 5003
}

@test "pp-ack of an unknown proc: invalid_proc, also in a store that does not exist" {
    must_fail 1 invalid_proc pp-ack nope
    must_fail 1 invalid_proc pp-ack nope --commit -t out '{"r":1}'
    nothing_committed out
    export PIPEPROC_LOCATION="$BATS_TEST_TMPDIR/empty-store"
    must_fail 1 invalid_proc pp-ack nope
    must_fail 1 invalid_proc pp-reclaim nope
    must_fail 1 invalid_proc pp-procs inspect nope
    must_fail 1 invalid_proc pp-procs destroy nope
    must_fail 1 invalid_proc pp-procs disable nope
    must_fail 1 invalid_proc pp-procs resume nope
    expect_output "" pp-procs list
}

@test "an ack moves the proc on and is recorded: lastAckedRange, lastAckedAt, reclaims 0" {
    ok at 5000 pp-proc in -n p -c 2
    expect_output 1000-0..1000-1 at 5100 pp-ack p
    ok pp-procs inspect p
    state_is "$output" '{"name":"p","topic":"in","status":"active","offset":">","createdAt":5000,"lastClaimedAt":5000,"lastAckedAt":5100,"lastClaimedRange":"1000-0..1000-1","previousClaimedRange":"","lastAckedRange":"1000-0..1000-1","reclaims":0,"maxReclaims":10,"reclaimTimeout":10000,"onMaxReclaimsReached":"disable","lag":7,"deadLetter":""}'
}

@test "pp-ack -q prints nothing but acks" {
    ok at 5000 pp-proc in -n p
    expect_output "" at 5001 pp-ack p -q
    expect_field p lastAckedRange 1000-0..1000-0
}

# ---------------------------------------------------------------------------------------
# pp-reclaim

@test "pp-reclaim returns to the previous claim: the same logs are claimed again" {
    expect_output "$(log_of 0)" at 5000 pp-proc in -n p
    ok at 5001 pp-ack p
    expect_output "$(log_of 1)
$(log_of 2)" at 5002 pp-proc in -n p -c 2
    expect_output 1000-0..1000-0 at 5003 pp-reclaim p
    expect_field p lastClaimedRange 1000-0..1000-0
    expect_field p reclaims 1
    expect_output "$(log_of 1)
$(log_of 2)" at 5004 pp-proc in -n p
    expect_output 1000-1..1000-2 at 5005 pp-ack p
    expect_field p reclaims 0
    expect_output "$(log_of 3)
$(log_of 4)" at 5006 pp-proc in -n p
}

@test "pp-reclaim of a first claim prints an empty line (no previous claim)" {
    expect_output "$(log_of 0)" at 5000 pp-proc in -n p
    expect_empty_line at 5001 pp-reclaim p
    ok pp-procs inspect p
    state_is "$output" '{"name":"p","topic":"in","status":"active","offset":">","createdAt":5000,"lastClaimedAt":5000,"lastAckedAt":0,"lastClaimedRange":"","previousClaimedRange":"","lastAckedRange":"","reclaims":1,"maxReclaims":10,"reclaimTimeout":10000,"onMaxReclaimsReached":"disable","lag":9,"deadLetter":""}'
    expect_output "$(log_of 0)" at 5002 pp-proc in -n p
}

@test "nothing_to_reclaim: no claim, after an ack, and right after a reclaim" {
    ok at 5000 pp-proc in -n p -o :8
    must_fail 1 nothing_to_reclaim at 5001 pp-reclaim p
    ok at 5002 pp-proc in -n q
    ok at 5003 pp-ack q
    must_fail 1 nothing_to_reclaim at 5004 pp-reclaim q
    ok at 5005 pp-proc in -n q
    expect_output 1000-0..1000-0 at 5006 pp-reclaim q
    must_fail 1 nothing_to_reclaim at 5007 pp-reclaim q
    expect_field q reclaims 1
}

@test "max reclaims with 'disable' (the default): after N reclaims the proc is disabled" {
    ok at 5000 pp-proc in -n p --max-reclaims 2
    expect_empty_line at 5001 pp-reclaim p
    expect_field p status active
    expect_output "$(log_of 0)" at 5002 pp-proc in -n p
    expect_empty_line at 5003 pp-reclaim p
    expect_field p status disabled
    expect_field p reclaims 2
    must_fail 1 proc_is_disabled at 5004 pp-proc in -n p
    must_fail 1 proc_is_disabled at 5005 pp-proc in -n p -c 3
    # Nothing was claimed by the refused calls.
    expect_field p lastClaimedRange ""
    expect_field p lastClaimedAt 5002
}

@test "the default max reclaims is 10" {
    local i
    for ((i = 1; i <= 10; i++)); do
        expect_output "$(log_of 0)" at $((5000 + 10 * i)) pp-proc in -n p
        expect_field p status active
        expect_empty_line at $((5001 + 10 * i)) pp-reclaim p
    done
    expect_field p status disabled
    expect_field p reclaims 10
    must_fail 1 proc_is_disabled at 6000 pp-proc in -n p
}

@test "max reclaims with 'continue': the proc stays active and claims the same log again" {
    local i
    for ((i = 1; i <= 4; i++)); do
        expect_output "$(log_of 0)" at $((5000 + 10 * i)) pp-proc in -n p --max-reclaims 2 --on-max-reclaims continue
        expect_empty_line at $((5001 + 10 * i)) pp-reclaim p
        expect_field p status active
    done
    expect_field p onMaxReclaimsReached continue
    expect_output "$(log_of 0)" at 6000 pp-proc in -n p
    expect_output 1000-0 at 6001 pp-ack p
    expect_field p reclaims 0
}

@test "--max-reclaims -1: no limit" {
    local i
    for ((i = 1; i <= 15; i++)); do
        expect_output "$(log_of 0)" at $((5000 + 10 * i)) pp-proc in -n p --max-reclaims -1
        expect_empty_line at $((5001 + 10 * i)) pp-reclaim p
    done
    expect_field p status active
    expect_field p maxReclaims -1
    expect_output "$(log_of 0)" at 6000 pp-proc in -n p
    must_fail 2 pp-proc in -n q --max-reclaims -2
}

# ---------------------------------------------------------------------------------------
# Automatic reclaim

@test "a claim older than --reclaim-timeout is reclaimed by the next pp-proc" {
    expect_output "$(log_of 0)" at 1000 pp-proc in -n p --reclaim-timeout 500
    expect_output "" at 1400 pp-proc in -n p
    expect_field p reclaims 0
    expect_output "$(log_of 0)" at 1600 pp-proc in -n p
    expect_field p reclaims 1
    expect_field p lastClaimedAt 1600
    expect_field p reclaimTimeout 500
    # The timeout counts from the new claim.
    expect_output "" at 2000 pp-proc in -n p
    expect_output "$(log_of 0)" at 2200 pp-proc in -n p
    expect_field p reclaims 2
    expect_output 1000-0 at 2201 pp-ack p
    expect_field p reclaims 0
    expect_output "$(log_of 1)" at 2202 pp-proc in -n p
}

@test "an automatic reclaim of a later claim returns to the claim before it" {
    ok at 1000 pp-proc in -n p --reclaim-timeout 500 -c 2
    ok at 1001 pp-ack p
    expect_output "$(log_of 2)
$(log_of 3)" at 1002 pp-proc in -n p
    expect_output "$(log_of 2)
$(log_of 3)" at 1700 pp-proc in -n p
    expect_field p previousClaimedRange 1000-0..1000-1
    expect_field p lastAckedRange 1000-0..1000-1
}

@test "the default reclaim timeout is 10000 ms" {
    expect_output "$(log_of 0)" at 1000 pp-proc in -n p
    expect_field p reclaimTimeout 10000
    expect_output "" at 10999 pp-proc in -n p
    expect_output "$(log_of 0)" at 11001 pp-proc in -n p
    expect_field p reclaims 1
}

@test "--reclaim-timeout -1 never reclaims" {
    expect_output "$(log_of 0)" at 1000 pp-proc in -n p --reclaim-timeout -1
    expect_output "" at 100000000 pp-proc in -n p
    expect_output "" at 9000000000000 pp-proc in -n p
    expect_field p reclaims 0
    expect_field p lastClaimedAt 1000
    expect_field p reclaimTimeout -1
    must_fail 2 pp-proc in -n q --reclaim-timeout -2
}

@test "automatic reclaims count toward max reclaims: disable" {
    expect_output "$(log_of 0)" at 1000 pp-proc in -n p --reclaim-timeout 500 --max-reclaims 2
    expect_output "$(log_of 0)" at 1600 pp-proc in -n p
    expect_field p reclaims 1
    must_fail 1 proc_is_disabled at 2200 pp-proc in -n p
    expect_field p status disabled
    expect_field p reclaims 2
    must_fail 1 proc_is_disabled at 2300 pp-proc in -n p
}

# ---------------------------------------------------------------------------------------
# Names, destroy

@test "a proc name reused for another topic: proc_name_not_unique" {
    ok at 5000 pp-commit -t other '{"o":0}'
    expect_output "$(log_of 0)" at 5001 pp-proc in -n p
    must_fail 1 proc_name_not_unique at 5002 pp-proc other -n p
    # Nothing about p changed.
    expect_field p topic in
    expect_field p lastClaimedRange 1000-0..1000-0
    # The same name on the same topic is the same proc.
    expect_output "" at 5003 pp-proc in -n p
}

@test "pp-procs destroy prints the last state; a destroyed proc comes back fresh" {
    ok at 5000 pp-proc in -n p -c 3 --max-reclaims 4
    ok at 5001 pp-ack p
    ok at 5002 pp-proc in -n p
    ok at 5003 pp-procs destroy p
    state_is "$output" '{"name":"p","topic":"in","status":"active","offset":">","createdAt":5000,"lastClaimedAt":5002,"lastAckedAt":5001,"lastClaimedRange":"2000-3..2000-5","previousClaimedRange":"1000-0..1000-2","lastAckedRange":"1000-0..1000-2","reclaims":0,"maxReclaims":4,"reclaimTimeout":10000,"onMaxReclaimsReached":"disable","lag":6,"deadLetter":""}'
    must_fail 1 invalid_proc pp-procs inspect p
    must_fail 1 invalid_proc pp-procs destroy p
    must_fail 1 invalid_proc pp-ack p
    expect_output "" pp-procs list
    # Fresh: from the start, with the new settings (and may now read another topic).
    expect_output "$(log_of 0)" at 6000 pp-proc in -n p
    ok pp-procs inspect p
    state_is "$output" '{"name":"p","topic":"in","status":"active","offset":">","createdAt":6000,"lastClaimedAt":6000,"lastAckedAt":0,"lastClaimedRange":"1000-0..1000-0","previousClaimedRange":"","lastAckedRange":"","reclaims":0,"maxReclaims":10,"reclaimTimeout":10000,"onMaxReclaimsReached":"disable","lag":9,"deadLetter":""}'
    ok pp-procs destroy p
    ok at 6001 pp-commit -t other '{"o":0}'
    expect_output '{"id":"6001-0","body":{"o":0}}' at 6002 pp-proc other -n p
}

# ---------------------------------------------------------------------------------------
# pp-procs

@test "pp-procs inspect: every contract field, in the contract's order, with its value" {
    expect_output "$(log_of 0)" at 5000 pp-proc in -n p --max-reclaims 3 --reclaim-timeout 2500
    ok pp-procs inspect p
    # One line, one JSON object.
    expect_eq 1 "$(printf '%s\n' "$output" | wc -l | tr -d ' ')" "lines printed by inspect"
    state_is "$output" '{"name":"p","topic":"in","status":"active","offset":">","createdAt":5000,"lastClaimedAt":5000,"lastAckedAt":0,"lastClaimedRange":"1000-0..1000-0","previousClaimedRange":"","lastAckedRange":"","reclaims":0,"maxReclaims":3,"reclaimTimeout":2500,"onMaxReclaimsReached":"disable","lag":9,"deadLetter":""}'
    # Types: numbers are numbers, ranges and names strings.
    expect_eq "number number number number number number number number" \
        "$(jq -r '[.createdAt,.lastClaimedAt,.lastAckedAt,.reclaims,.maxReclaims,.reclaimTimeout,.lag,.createdAt]|map(type)|join(" ")' <<<"$output")"
}

@test "pp-procs list: one line per proc; -t TOPIC: the procs of that topic" {
    ok at 4000 pp-commit -t other '{"o":0}'
    ok at 5000 pp-proc in -n a
    ok at 5001 pp-proc other -n b
    ok at 5002 pp-proc in -n c -o '$>'
    ok pp-procs list
    expect_eq "a in
b other
c in" "$(jq -r '"\(.name) \(.topic)"' <<<"$output")" "pp-procs list"
    local line
    while IFS= read -r line; do
        expect_eq "$(jq -c . <<<"$PROC_FIELDS")" "$(jq -c '[keys_unsorted[:16]]|.[0]' <<<"$line")" "keys of $line"
    done <<<"$output"
    ok pp-procs list -t in
    expect_eq "a c" "$(jq -r .name <<<"$output" | tr '\n' ' ' | sed 's/ $//')" "pp-procs list -t in"
    ok pp-procs list --topic other
    state_is "$output" '{"name":"b","topic":"other","status":"active","offset":">","createdAt":5001,"lastClaimedAt":5001,"lastAckedAt":0,"lastClaimedRange":"4000-0..4000-0","previousClaimedRange":"","lastAckedRange":"","reclaims":0,"maxReclaims":10,"reclaimTimeout":10000,"onMaxReclaimsReached":"disable","lag":1,"deadLetter":""}'
    expect_output "" pp-procs list -t nosuchtopic
    must_fail 2 invalid_name pp-procs list -t 'x y'
}

@test "pp-procs disable / resume print the new state; already_disabled, already_active" {
    ok at 5000 pp-proc in -n p
    ok pp-procs disable p
    state_is "$output" '{"name":"p","topic":"in","status":"disabled","offset":">","createdAt":5000,"lastClaimedAt":5000,"lastAckedAt":0,"lastClaimedRange":"1000-0..1000-0","previousClaimedRange":"","lastAckedRange":"","reclaims":0,"maxReclaims":10,"reclaimTimeout":10000,"onMaxReclaimsReached":"disable","lag":9,"deadLetter":""}'
    must_fail 1 proc_already_disabled pp-procs disable p
    must_fail 1 proc_is_disabled at 5001 pp-proc in -n p
    ok pp-procs resume p
    state_is "$output" '{"name":"p","topic":"in","status":"active","offset":">","createdAt":5000,"lastClaimedAt":5000,"lastAckedAt":0,"lastClaimedRange":"1000-0..1000-0","previousClaimedRange":"","lastAckedRange":"","reclaims":0,"maxReclaims":10,"reclaimTimeout":10000,"onMaxReclaimsReached":"disable","lag":9,"deadLetter":""}'
    must_fail 1 proc_already_active pp-procs resume p
    # Active again: the open claim still blocks until acked.
    expect_output "" at 5002 pp-proc in -n p
    expect_output 1000-0 at 5003 pp-ack p
    expect_output "$(log_of 1)" at 5004 pp-proc in -n p
}

@test "resume zeroes reclaims and the proc claims again" {
    ok at 5000 pp-proc in -n p --max-reclaims 2
    ok at 5001 pp-reclaim p
    ok at 5002 pp-proc in -n p
    ok at 5003 pp-reclaim p
    expect_field p status disabled
    expect_field p reclaims 2
    ok pp-procs resume p
    expect_eq 0 "$(jq -r .reclaims <<<"$output")" "reclaims printed by resume"
    expect_field p reclaims 0
    expect_field p status active
    # A full budget again: one reclaim does not disable it.
    expect_output "$(log_of 0)" at 5004 pp-proc in -n p
    ok at 5005 pp-reclaim p
    expect_field p status active
    expect_output "$(log_of 0)" at 5006 pp-proc in -n p
}

@test "a disabled proc can still ack its open claim, but claims nothing" {
    expect_output "$(log_of 0)
$(log_of 1)" at 5000 pp-proc in -n p -c 2
    ok pp-procs disable p
    expect_output 1000-0..1000-1 at 5001 pp-ack p
    expect_field p status disabled
    expect_field p lastAckedRange 1000-0..1000-1
    must_fail 1 proc_is_disabled at 5002 pp-proc in -n p
    must_fail 1 nothing_to_ack at 5003 pp-ack p
}

@test "a disabled proc can ack --commit its open claim" {
    ok at 5000 pp-proc in -n p
    ok pp-procs disable p
    expect_output "1000-0
5001-0" at 5001 pp-ack p --commit -t out '{"done":0}'
    expect_output '{"id":"5001-0","body":{"done":0}}' pp-range out
}

@test "lag counts the logs of the topic not yet acked by the proc" {
    ok at 5000 pp-proc in -n p
    expect_field p lag 9
    ok at 5001 pp-ack p
    expect_field p lag 8
    ok at 5002 pp-proc in -n p -c 3
    expect_field p lag 8
    ok at 5003 pp-ack p
    expect_field p lag 5
    ok at 5004 pp-commit -t in '{"n":9}' '{"n":10}'
    expect_field p lag 7
    ok at 5005 pp-proc in -n q -o :5
    expect_field q lag 5
    ok at 5006 pp-proc in -n r -o 3000
    expect_field r lag 5
    ok at 5007 pp-proc in -n s -o '$>'
    expect_field s lag 0
    # list shows the same lags.
    expect_eq "p 7
q 5
r 5
s 0" "$(pp-procs list | jq -r '"\(.name) \(.lag)"')" "lags in pp-procs list"
}

# ---------------------------------------------------------------------------------------
# Dead letters

@test "dead-letter: after max reclaims the log goes to NAME.dead and the proc moves on" {
    expect_output "$(log_of 0)" at 5000 pp-proc in -n p --on-max-reclaims dead-letter --max-reclaims 2
    expect_field p deadLetter p.dead
    expect_field p onMaxReclaimsReached dead-letter
    expect_empty_line at 5001 pp-reclaim p
    nothing_committed p.dead
    expect_output "$(log_of 0)" at 5002 pp-proc in -n p
    # The second reclaim reaches the limit: dead-lettered and acked in one commit.
    ok at 5003 pp-reclaim p
    expect_output '{"id":"5003-0","body":{"id":"1000-0","topic":"in","proc":"p","reclaims":2,"body":{"n":0}}}' \
        pp-range p.dead
    ok pp-procs inspect p
    state_is "$output" '{"name":"p","topic":"in","status":"active","offset":">","createdAt":5000,"lastClaimedAt":5002,"lastAckedAt":5003,"lastClaimedRange":"1000-0..1000-0","previousClaimedRange":"","lastAckedRange":"1000-0..1000-0","reclaims":0,"maxReclaims":2,"reclaimTimeout":10000,"onMaxReclaimsReached":"dead-letter","lag":8,"deadLetter":"p.dead"}'
    must_fail 1 nothing_to_ack at 5004 pp-ack p
    expect_output "$(log_of 1)" at 5005 pp-proc in -n p
    expect_output 1000-1 at 5006 pp-ack p
    expect_output 1 pp-length p.dead
}

@test "dead-letter by automatic reclaims; a claim of several logs: one dead letter each" {
    expect_output "$(log_of 0)
$(log_of 1)" at 1000 pp-proc in -n p -c 2 --reclaim-timeout 100 --max-reclaims 2 --on-max-reclaims dead-letter
    expect_output "$(log_of 0)
$(log_of 1)" at 1200 pp-proc in -n p
    # At 1400 the second reclaim dead-letters both, and the proc claims the next logs.
    expect_output "$(log_of 2)
$(log_of 3)" at 1400 pp-proc in -n p
    expect_output '{"id":"1400-0","body":{"id":"1000-0","topic":"in","proc":"p","reclaims":2,"body":{"n":0}}}
{"id":"1400-1","body":{"id":"1000-1","topic":"in","proc":"p","reclaims":2,"body":{"n":1}}}' pp-range p.dead
    expect_field p lastAckedRange 1000-0..1000-1
    expect_field p lastClaimedRange 1000-2..2000-3
    expect_output 1000-2..2000-3 at 1401 pp-ack p
}

@test "--dead-letter TOPIC overrides NAME.dead" {
    ok at 5000 pp-proc in -n p --on-max-reclaims dead-letter --max-reclaims 1 --dead-letter poison
    expect_field p deadLetter poison
    ok at 5001 pp-reclaim p
    expect_output '{"id":"5001-0","body":{"id":"1000-0","topic":"in","proc":"p","reclaims":1,"body":{"n":0}}}' \
        pp-range poison
    nothing_committed p.dead
    expect_output "$(log_of 1)" at 5002 pp-proc in -n p
    must_fail 2 invalid_name pp-proc in -n q --on-max-reclaims dead-letter --dead-letter 'bad name'
}

@test "deadLetter is empty for procs that do not dead-letter" {
    ok at 5000 pp-proc in -n p
    ok at 5000 pp-proc in -n q --on-max-reclaims continue
    expect_field p deadLetter ""
    expect_field q deadLetter ""
}

# ---------------------------------------------------------------------------------------
# pp-ack --commit

@test "pp-ack --commit -t TOPIC BODY...: the acked range, then one id per committed log" {
    expect_output "$(log_of 0)" at 5000 pp-proc in -n p
    expect_output "1000-0
5001-0
5001-1" at 5001 pp-ack p --commit -t out '{"r":0}' '[1,2]'
    expect_output '{"id":"5001-0","body":{"r":0}}
{"id":"5001-1","body":[1,2]}' pp-range out
    expect_field p lastAckedRange 1000-0..1000-0
    ok at 5002 pp-proc in -n p -c 3
    expect_output "1000-1..2000-3
5003-2" at 5003 pp-ack p --commit -t out '"three"'
    expect_output '"three"' pp-range out -s :2 --format body
}

@test "pp-ack --commit reads JSON lines from stdin with -t, envelopes without" {
    ok at 5000 pp-proc in -n p
    expect_output "1000-0
5001-0
5001-1" at 5001 pp-ack p --commit -t out <<<'{"r":0}

{"r":1}'
    ok at 5002 pp-proc in -n p
    expect_output "1000-1
5003-2
5003-0" at 5003 pp-ack p --commit <<<'{"topic":"out","body":{"r":2}}
{"topic":"side","body":"s"}'
    expect_output '{"r":0}
{"r":1}
{"r":2}' pp-range out --format body
    expect_output '{"id":"5003-0","body":"s"}' pp-range side
    # Envelopes as arguments.
    ok at 5004 pp-proc in -n p
    expect_output "1000-2
5005-3" at 5005 pp-ack p --commit '{"topic":"out","body":3}'
}

@test "pp-ack --commit with no bodies acks only" {
    ok at 5000 pp-proc in -n p
    expect_output 1000-0 at 5001 pp-ack p --commit -t out </dev/null
    nothing_committed out
    expect_field p lastAckedRange 1000-0..1000-0
}

@test "pp-ack --commit with a bad body: exit 65, neither the ack nor the commit happened" {
    ok at 4000 pp-commit -t out '{"before":1}'
    ok at 5000 pp-proc in -n p
    must_fail 65 invalid_json at 5001 pp-ack p --commit -t out '{"r":0}' '{"r":'
    expect_output 1 pp-length out
    expect_field p lastAckedRange ""
    expect_field p lastAckedAt 0
    # Stdin: a good line before the bad one is not committed either.
    must_fail 65 invalid_json at 5002 pp-ack p --commit -t out <<<'{"r":1}
not json'
    expect_output 1 pp-length out
    # An envelope without a topic is bad input too.
    must_fail 65 at 5003 pp-ack p --commit '{"body":1}'
    expect_output 1 pp-length out
    # The claim is still open: a plain ack succeeds afterwards.
    expect_output "" at 5004 pp-proc in -n p
    expect_output 1000-0 at 5005 pp-ack p
    expect_output '{"id":"4000-0","body":{"before":1}}' pp-range out
}

@test "bodies and -t without --commit are a usage error" {
    ok at 5000 pp-proc in -n p
    must_fail 2 pp-ack p '{"r":0}'
    must_fail 2 pp-ack p -t out
    nothing_committed out
    expect_field p lastAckedRange ""
}

# ---------------------------------------------------------------------------------------
# --wait

@test "pp-proc --wait MS exits 124 when nothing comes, after about MS" {
    ok pp-proc in -n p -o :8
    local t0 t1
    t0=$(now_ms)
    must_timeout pp-proc in -n p --wait 200
    t1=$(now_ms)
    expect_eq "" "$output" "output of a timed-out pp-proc --wait"
    (((t1 - t0) >= 190)) || pp_fail "pp-proc --wait 200 gave up after $((t1 - t0)) ms"
    (((t1 - t0) < 5000)) || pp_fail "pp-proc --wait 200 took $((t1 - t0)) ms"
    # With something to claim it returns at once.
    expect_output "$(log_of 0)" pp-proc in -n q --wait 200
    # An open claim is nothing to claim.
    must_timeout pp-proc in -n q --wait 150
}

@test "pp-proc --wait returns the log another process commits during the wait" {
    ok pp-proc in -n p -o :8
    local t0 t1
    (sleep 0.3 && pp-commit -q -t in '{"late":1}') 3>&- &
    PP_BG_PIDS+=($!)
    t0=$(now_ms)
    ok pp-proc in -n p --wait 10000 --format body
    t1=$(now_ms)
    expect_eq '{"late":1}' "$output" "claimed by pp-proc --wait"
    # The commit came after about 300 ms: well before the 10 s the wait allowed.
    (((t1 - t0) < 5000)) || pp_fail "pp-proc --wait returned after $((t1 - t0)) ms, well after the commit"
}

@test "pp-proc --wait returns the claim again once its reclaim timeout runs out" {
    ok pp-proc in -n p --reclaim-timeout 400
    local t0 t1
    t0=$(now_ms)
    expect_output "$(log_of 0)" pp-proc in -n p --wait 10000
    t1=$(now_ms)
    (((t1 - t0) < 5000)) || pp_fail "returned after $((t1 - t0)) ms, the claim timed out after 400"
    expect_field p reclaims 1
}

@test "pp-proc --wait 0 waits forever, until a log comes" {
    ok pp-proc in -n p -o :8
    bg_start "$BATS_TEST_TMPDIR/wait.out" "$BATS_TEST_TMPDIR/wait.err" pp-proc in -n p --wait 0 --format id
    local waiter=$bg_pid
    sleep 1
    kill -0 "$waiter" 2>/dev/null || pp_fail "pp-proc --wait 0 exited before anything came: $(cat "$BATS_TEST_TMPDIR/wait.err")"
    expect_output "" cat "$BATS_TEST_TMPDIR/wait.out"
    ok at 7000 pp-commit -q -t in '{"n":9}'
    wait_pid 10 "$waiter"
    expect_eq 0 "$status" "exit code of pp-proc --wait 0 ($(cat "$BATS_TEST_TMPDIR/wait.err"))"
    expect_output 7000-9 cat "$BATS_TEST_TMPDIR/wait.out"
}

@test "pp-proc --wait with a negative value is a usage error" {
    must_fail 2 pp-proc in -n p --wait -5
}

# ---------------------------------------------------------------------------------------
# pp-wait

@test "pp-wait returns 0 when the procs have caught up" {
    ok at 5000 pp-proc in -n p -c 9
    ok at 5001 pp-ack p
    ok timeout 10 pp-wait p
    ok timeout 10 pp-wait p --timeout 100
    ok timeout 10 pp-wait
}

@test "pp-wait --timeout exits 124 while a claim is open, and while logs remain" {
    ok at 5000 pp-proc in -n p -c 9
    must_timeout timeout 10 pp-wait p --timeout 200
    ok at 5001 pp-ack p
    ok timeout 10 pp-wait p --timeout 200
    ok at 5002 pp-commit -t in '{"n":9}'
    must_timeout timeout 10 pp-wait p --timeout 200
    # No claim is open, but a log is left: not caught up.
    expect_field p lag 1
    must_timeout timeout 10 pp-wait p --timeout 0
}

@test "pp-wait returns once another process acks the last claim" {
    ok at 5000 pp-proc in -n p -c 9
    bg_start "$BATS_TEST_TMPDIR/wait.out" "$BATS_TEST_TMPDIR/wait.err" pp-wait p --timeout 20000
    local waiter=$bg_pid t0 t1
    sleep 0.3
    kill -0 "$waiter" 2>/dev/null || pp_fail "pp-wait returned before the ack"
    t0=$(now_ms)
    ok pp-ack p
    wait_pid 10 "$waiter"
    t1=$(now_ms)
    expect_eq 0 "$status" "exit code of pp-wait ($(cat "$BATS_TEST_TMPDIR/wait.err"))"
    (((t1 - t0) < 5000)) || pp_fail "pp-wait returned $((t1 - t0)) ms after the ack"
}

@test "pp-wait without names waits for every active proc (disabled ones are skipped)" {
    ok at 4000 pp-commit -t other '{"o":0}'
    ok at 5000 pp-proc in -n a -c 9
    ok at 5001 pp-ack a
    ok at 5002 pp-proc other -n b
    must_timeout timeout 10 pp-wait --timeout 200
    ok timeout 10 pp-wait a --timeout 200
    must_timeout timeout 10 pp-wait a b --timeout 200
    ok at 5003 pp-ack b
    ok timeout 10 pp-wait --timeout 200
    # A disabled proc with work left is not waited for, unless named.
    ok at 5004 pp-proc in -n c
    must_timeout timeout 10 pp-wait --timeout 100
    ok pp-procs disable c
    ok timeout 10 pp-wait --timeout 200
    must_timeout timeout 10 pp-wait c --timeout 100
}

@test "pp-wait on an unknown proc: invalid_proc" {
    must_fail 1 invalid_proc timeout 10 pp-wait nope --timeout 100
    ok at 5000 pp-proc in -n p -c 9
    ok at 5001 pp-ack p
    must_fail 1 invalid_proc timeout 10 pp-wait p nope --timeout 100
}

@test "pp-wait with no procs at all returns 0" {
    ok timeout 10 pp-wait --timeout 100
    export PIPEPROC_LOCATION="$BATS_TEST_TMPDIR/empty-store"
    ok timeout 10 pp-wait --timeout 100
}
