#!/usr/bin/env bats
# The node and its systemProcs from the shell (CONTRACT.md §6 "pp-spawn / pp-shutdown /
# pp-status" and "pp-systemproc", §4): starting, refusing a second node, status, graceful
# stops (pp-shutdown, --foreground with SIGTERM/SIGINT), --exec and --stream processors
# (results, reclaims, timeouts, environment, restarts), worker slots, the GC timer, and
# what this build refuses (--tcp, --socket, --memory, --connect).
# Every test shuts its node down in teardown (pp-shutdown, then SIGKILL to what is left);
# every wait is bounded. Processors use jq.

load helpers

setup() {
    pp_setup
    NODE_LOG="$BATS_TEST_TMPDIR/node.log"
    NODE_PID=
    command -v jq >/dev/null || pp_fail "jq is needed for these tests (apt-get install jq)"
}

teardown() {
    pp-shutdown --timeout 10000 >/dev/null 2>&1 || true
    if [[ -n $NODE_PID ]]; then
        kill -9 -- "-$NODE_PID" 2>/dev/null || true
        kill -9 "$NODE_PID" 2>/dev/null || true
    fi
    pp_teardown
    # Shown only when the test failed.
    if [[ -s $NODE_LOG ]]; then
        echo "# --- node log (last 20 lines):"
        tail -n 20 "$NODE_LOG" | sed 's/^/# /'
    fi
}

# spawn_node [ARGS...]: pp-spawn --log $NODE_LOG ARGS, which must print a pid and exit 0;
# sets $NODE_PID. Bats' fd 3 is closed: the node must not hold it open.
spawn_node() {
    ok pp-spawn --log "$NODE_LOG" "$@" 3>&- || return
    NODE_PID=$output
    [[ $NODE_PID =~ ^[1-9][0-9]*$ ]] || pp_fail "pp-spawn printed '$output', not a pid"
}

# pid_dead PID: no such process, or only its zombie is left.
pid_dead() {
    ! kill -0 "$1" 2>/dev/null || [[ $(ps -o stat= -p "$1" 2>/dev/null) == Z* ]]
}

# status_text_no_node: what pp-status prints for a store without node, topics or procs.
status_text_no_node() {
    printf 'store: %s\nnode: no node runs\ntopics: 0\nprocs: 0\nsystemProcs: 0' "$PIPEPROC_LOCATION"
}

# node_line: the second line of pp-status.
node_line() {
    pp-status | sed -n 2p
}

# field PROC KEY: one field of `pp-procs inspect PROC`, as jq -c prints it.
field() {
    pp-procs inspect "$1" | jq -c ".$2"
}

field_is() { [[ $(field "$1" "$2" 2>/dev/null) == "$3" ]]; }

field_at_least() {
    local v
    v=$(field "$1" "$2" 2>/dev/null) && [[ $v =~ ^[0-9]+$ ]] && ((v >= $3))
}

# has_open_claim PROC: the proc has claimed logs that are neither acked nor reclaimed.
has_open_claim() {
    local s
    s=$(pp-procs inspect "$1" 2>/dev/null) || return 1
    [[ $(jq -r '.lastClaimedRange != "" and .lastClaimedRange != .lastAckedRange' <<<"$s") == true ]]
}

# bodies TOPIC: the bodies of TOPIC, one per line.
bodies() {
    pp-range "$1" --format body
}

# --- the node itself --------------------------------------------------------------

@test "pp-status without a node says that no node runs, as text and as JSON, and creates nothing" {
    expect_output "$(status_text_no_node)" pp-status
    expect_output "{\"store\":\"$PIPEPROC_LOCATION\",\"node\":{\"running\":false,\"pid\":0},\"topics\":[],\"procs\":[],\"systemProcs\":[]}" \
        pp-status --json
    [[ ! -e $PIPEPROC_LOCATION ]] || pp_fail "pp-status created the store"
}

@test "pp-shutdown without a node is node_not_running (exit 69)" {
    must_fail 69 node_not_running pp-shutdown
    expect_eq "" "$output" "stdout"
    ok pp-commit -q -t t 1
    must_fail 69 node_not_running pp-shutdown
}

@test "pp-spawn prints its pid and returns once the node is ready; pp-status shows it running" {
    spawn_node
    kill -0 "$NODE_PID" || pp_fail "no process $NODE_PID"
    # Ready means: running now, without any waiting.
    expect_output "store: $PIPEPROC_LOCATION
node: running (pid $NODE_PID)
topics: 0
procs: 0
systemProcs: 0" pp-status
    expect_output "{\"running\":true,\"pid\":$NODE_PID}" jq -c .node <(pp-status --json)
}

@test "a second pp-spawn is node_already_running (exit 1) and leaves the first node alone" {
    spawn_node
    must_fail 1 node_already_running pp-spawn --log "$NODE_LOG" 3>&-
    expect_eq "" "$output" "stdout"
    must_fail 1 node_already_running timeout 10 pp-spawn --foreground 3>&-
    expect_output "node: running (pid $NODE_PID)" node_line
}

@test "pp-shutdown returns 0 once the node is gone; then there is no node and a new one can start" {
    spawn_node
    first=$NODE_PID
    expect_output "" pp-shutdown
    # pp-shutdown returns when the node has stopped: no waiting here.
    pid_dead "$first" || pp_fail "pp-shutdown returned, but the node $first still runs"
    expect_output "$(status_text_no_node)" pp-status
    must_fail 69 node_not_running pp-shutdown
    spawn_node
    [[ $NODE_PID != "$first" ]] || pp_fail "the new node has the old pid"
    expect_output "node: running (pid $NODE_PID)" node_line
}

@test "a node killed with SIGKILL is not reported as running, and a new node starts at once" {
    spawn_node
    kill -9 "$NODE_PID"
    wait_until 5 pid_dead "$NODE_PID"
    expect_output "node: no node runs" node_line
    must_fail 69 node_not_running pp-shutdown
    spawn_node
    expect_output "node: running (pid $NODE_PID)" node_line
}

@test "pp-spawn --foreground stays attached, prints its pid, and SIGTERM stops it gracefully (exit 0)" {
    out="$BATS_TEST_TMPDIR/fg.out" err="$BATS_TEST_TMPDIR/fg.err"
    bg_start "$out" "$err" pp-spawn --foreground
    pid=$bg_pid
    wait_until 5 has_lines "$out" 1
    expect_output "$pid" cat "$out"
    expect_output "node: running (pid $pid)" node_line
    sleep 0.2
    kill -0 "$pid" || pp_fail "pp-spawn --foreground did not stay attached" "$(cat "$err")"
    kill -TERM "$pid"
    wait_pid 10 "$pid"
    ((status == 0)) || pp_fail "pp-spawn --foreground exited $status after SIGTERM" "$(cat "$err")"
    expect_output "node: no node runs" node_line
}

@test "pp-spawn --foreground stops gracefully on SIGINT too (exit 0)" {
    out="$BATS_TEST_TMPDIR/fg.out" err="$BATS_TEST_TMPDIR/fg.err"
    bg_start "$out" "$err" pp-spawn --foreground
    pid=$bg_pid
    wait_until 5 has_lines "$out" 1
    kill -INT "$pid"
    wait_pid 10 "$pid"
    ((status == 0)) || pp_fail "pp-spawn --foreground exited $status after SIGINT" "$(cat "$err")"
    expect_output "node: no node runs" node_line
}

@test "--tcp, --socket and --memory are refused in this build (exit 2), and start no node" {
    must_fail 2 pp-spawn --tcp 127.0.0.1:7400 3>&-
    grep -q "not built yet" <<<"$stderr" || pp_fail "no 'not built yet' in: $stderr"
    stderr_is_error_line pp-spawn
    must_fail 2 pp-spawn --socket "ipc://$BATS_TEST_TMPDIR/node.sock" 3>&-
    must_fail 2 pp-spawn --memory 3>&-
    expect_output "node: no node runs" node_line
}

@test "--connect fails with connection_failed (exit 69) on the node tools" {
    must_fail 69 connection_failed pp-status --connect tcp://127.0.0.1:1
    must_fail 69 connection_failed pp-shutdown --connect tcp://127.0.0.1:1
    must_fail 69 connection_failed pp-systemproc --connect tcp://127.0.0.1:1 list
}

@test "pp-spawn: --workers below 0 and --worker-concurrency below 1 are usage errors" {
    must_fail 2 pp-spawn --workers -1 3>&-
    must_fail 2 pp-spawn --worker-concurrency 0 3>&-
    expect_output "node: no node runs" node_line
}

# --- pp-systemproc: the registry --------------------------------------------------

@test "systemProc --exec end to end: each log squared, in order" {
    expect_output '{"name":"sq","from":["nums"],"to":["out"],"exec":"jq -c \".body * .body\"","procs":["sq"]}' \
        pp-systemproc add sq --from nums --to out --exec 'jq -c ".body * .body"'
    spawn_node
    ok pp-commit -q -t nums 1 2 3 4 5
    ok pp-wait --timeout 10000
    expect_output "1
4
9
16
25" bodies out
    expect_output '0' field sq lag
    expect_output '0' field sq reclaims
}

@test "a systemProc added while the node runs is run, and so are logs committed before the node" {
    ok pp-systemproc add early --from a --to out --exec 'jq -c "{early: .body}"'
    ok pp-commit -q -t a 1
    spawn_node
    ok pp-wait --timeout 10000
    ok pp-systemproc add late --from b --to out --exec 'jq -c "{late: .body}"'
    ok pp-commit -q -t b 2
    ok pp-wait --timeout 10000
    expect_output '{"early":1}
{"late":2}' bodies out
}

@test "an --exec that exits non-zero reclaims: the reclaims grow, and with --max-reclaims 2 the proc ends disabled" {
    ok pp-systemproc add bad --from a --to out --exec 'cat >/dev/null; exit 3' --max-reclaims 2
    ok pp-systemproc add worse --from b --to out --exec 'cat >/dev/null; exit 3' --max-reclaims -1
    spawn_node
    ok pp-commit -q -t a '"x"'
    ok pp-commit -q -t b '"y"'
    wait_until 10 field_is bad status '"disabled"'
    expect_output '2' field bad reclaims
    expect_output '1' field bad lag
    wait_until 10 field_at_least worse reclaims 5
    expect_output '"active"' field worse status
    nothing_committed out
    grep -q 'claim of bad reclaimed: the processor exited with 3' "$NODE_LOG" ||
        pp_fail "the node log does not say why the claim was reclaimed"
}

@test "output that is not JSON reclaims, and none of the command's output is committed" {
    ok pp-systemproc add nj --from a --to out --exec 'cat >/dev/null; echo 1; echo "not json"' --max-reclaims 2
    spawn_node
    ok pp-commit -q -t a 1
    wait_until 10 field_is nj status '"disabled"'
    expect_output '2' field nj reclaims
    nothing_committed out
}

@test "an --exec running past --reclaim-timeout is killed and its claim reclaimed" {
    pids="$BATS_TEST_TMPDIR/pids"
    ok pp-systemproc add slow --from a --to out --exec "echo \$\$ >>'$pids'; exec sleep 30" \
        --reclaim-timeout 300 --max-reclaims 1
    spawn_node
    ok pp-commit -q -t a 1
    wait_until 10 field_is slow status '"disabled"'
    expect_output '1' field slow reclaims
    expect_output '1' line_count "$pids"
    pid_dead "$(cat "$pids")" || pp_fail "the processor $(cat "$pids") still runs"
    nothing_committed out
    grep -q 'claim of slow reclaimed: the processor ran past the reclaim timeout of 300 ms' "$NODE_LOG" ||
        pp_fail "the node log does not say why the claim was reclaimed"
}

@test "the command gets PIPEPROC_PROC, PIPEPROC_TOPIC and the store, so that it can call pp-* itself" {
    ok pp-systemproc add env --from d --to out --exec \
        'cat >/dev/null; printf "{\"proc\":\"%s\",\"topic\":\"%s\",\"length\":%s}\n" "$PIPEPROC_PROC" "$PIPEPROC_TOPIC" "$(pp-length "$PIPEPROC_TOPIC")"'
    # The node gets its store from -L alone: the command must get it from the node.
    store=$PIPEPROC_LOCATION
    ok env -u PIPEPROC_LOCATION pp-spawn -L "$store" --log "$NODE_LOG" 3>&-
    NODE_PID=$output
    ok pp-commit -q -t d '"x"'
    ok pp-wait --timeout 10000
    expect_output '{"proc":"env","topic":"d","length":1}' bodies out
}

@test "several --from topics make one proc per topic, named NAME__TOPIC" {
    expect_output '{"name":"m","from":["e","f"],"to":["mo"],"exec":"jq -c .body","procs":["m__e","m__f"]}' \
        pp-systemproc add m --from e f --to mo --exec 'jq -c .body'
    expect_output '"e"' field m__e topic
    expect_output '"f"' field m__f topic
    spawn_node
    ok pp-commit -q -t e '"from e"'
    ok pp-commit -q -t f '"from f"'
    ok pp-wait --timeout 10000
    expect_output '"from e"
"from f"' sort <(bodies mo)
}

@test "add of an existing name: the same topic is a no-op with the same output, another topic is proc_name_not_unique" {
    want='{"name":"sq","from":["nums"],"to":["out"],"exec":"jq -c .body","procs":["sq"]}'
    expect_output "$want" pp-systemproc add sq --from nums --to out --exec 'jq -c .body'
    procs_before=$(pp-procs list)
    expect_output "$want" pp-systemproc add sq --from nums --to out --exec 'jq -c .body'
    # The registered definition stays, whatever the other options say.
    expect_output "$want" pp-systemproc add sq --from nums --to elsewhere --exec 'cat'
    must_fail 1 proc_name_not_unique pp-systemproc add sq --from other --to out --exec 'jq -c .body'
    expect_eq "" "$output" "stdout"
    expect_output "$want" pp-systemproc list
    expect_output "$procs_before" pp-procs list
}

@test "list and remove print {name,from,to,exec|stream,procs}; remove deletes its procs" {
    a='{"name":"a","from":["x"],"to":[],"exec":"cat >/dev/null","procs":["a"]}'
    b='{"name":"b","from":["x","y"],"to":["o1","o2"],"stream":"./answer \"$1\"","procs":["b__x","b__y"]}'
    expect_output "" pp-systemproc list
    expect_output "$a" pp-systemproc add a --from x --exec 'cat >/dev/null'
    expect_output "$b" pp-systemproc add b --from x y --to o1 o2 --stream './answer "$1"'
    expect_output "$a
$b" pp-systemproc list
    expect_output '"a"
"b__x"
"b__y"' jq '.name' <(pp-procs list)
    expect_output "$b" pp-systemproc remove b
    expect_output "$a" pp-systemproc list
    expect_output '"a"' jq '.name' <(pp-procs list)
    must_fail 1 invalid_proc pp-systemproc remove b
    must_fail 1 invalid_proc pp-procs inspect b__x
}

@test "remove while the node runs leaves none of its procs behind" {
    spawn_node
    for round in 1 2 3 4 5 6; do
        ok pp-systemproc add sq --from nums --to out --exec 'jq -c .body' -o '$>'
        ok pp-commit -q -t nums "$round"
        ok pp-wait --timeout 10000
        ok pp-systemproc remove sq
        sleep 0.7
        expect_output "" pp-procs list || pp_fail "round $round: the removed systemProc's proc is back"
    done
}

@test "add: bad names, no command, both commands, a bad offset, dead-letter are refused before anything is written" {
    must_fail 2 invalid_name pp-systemproc add 'bad name' --from a --exec cat
    must_fail 2 invalid_name pp-systemproc add ok --from 'bad topic' --exec cat
    must_fail 2 invalid_name pp-systemproc add ok --from a --to 'bad topic' --exec cat
    must_fail 2 pp-systemproc add ok --from a
    must_fail 2 pp-systemproc add ok --from a --exec cat --stream cat
    must_fail 2 pp-systemproc add ok --exec cat
    must_fail 2 pp-systemproc add ok --from a --exec cat --on-max-reclaims dead-letter
    must_fail 1 invalid_range_offset pp-systemproc add ok --from a --exec cat -o bogus
    expect_output "" pp-systemproc list
    expect_output "" pp-procs list
}

@test "add: a count below 1 is a usage error, as for pp-proc" {
    must_fail 2 pp-systemproc add zero --from a --exec cat -c 0
    expect_output "" pp-systemproc list
}

# --- --stream processors ----------------------------------------------------------

# write_answering_processor FILE: a --stream processor answering per body:
# "null" -> {"ok":null}, "one" -> {"ok":{"x":1}}, "many" -> {"ok":[1,"two",{"three":[3]}]},
# "err" -> {"error":"m"}.
write_answering_processor() {
    cat >"$1" <<'EOF'
#!/bin/sh
while IFS= read -r line; do
    case $(printf '%s' "$line" | jq -c .body) in
    '"null"') echo '{"ok":null}' ;;
    '"one"') echo '{"ok":{"x":1}}' ;;
    '"many"') echo '{"ok":[1,"two",{"three":[3]}]}' ;;
    '"err"') echo '{"error":"m"}' ;;
    esac
done
EOF
    chmod +x "$1"
}

@test "--stream: {\"ok\":null} acks, {\"ok\":BODY} and {\"ok\":[BODY,...]} commit to every --to topic, {\"error\":..} reclaims" {
    proc="$BATS_TEST_TMPDIR/answer.sh"
    write_answering_processor "$proc"
    ok pp-systemproc add st --from in --to o1 o2 --stream "$proc" --max-reclaims 2
    spawn_node
    ok pp-commit -q -t in '"null"' '"one"' '"many"'
    ok pp-wait --timeout 10000
    want='{"x":1}
1
"two"
{"three":[3]}'
    expect_output "$want" bodies o1
    expect_output "$want" bodies o2
    expect_output '0' field st lag
    ok pp-commit -q -t in '"err"'
    wait_until 10 field_is st status '"disabled"'
    expect_output '2' field st reclaims
    expect_output '1' field st lag
    expect_output "$want" bodies o1
    grep -q 'claim of st reclaimed: "m"' "$NODE_LOG" || pp_fail "the node log does not give the error message"
}

@test "a --stream processor that exits is restarted and its claim reclaimed" {
    proc="$BATS_TEST_TMPDIR/dies.sh"
    cat >"$proc" <<EOF
#!/bin/sh
# Exits at its first "die" (once); otherwise answers with its pid.
while IFS= read -r line; do
    case \$line in
    *'"die"'*) if [ ! -e '$BATS_TEST_TMPDIR/died' ]; then : >'$BATS_TEST_TMPDIR/died'; exit 1; fi ;;
    esac
    echo "{\"ok\":\$\$}"
done
EOF
    chmod +x "$proc"
    ok pp-systemproc add st --from in --to out --stream "$proc"
    spawn_node
    ok pp-commit -q -t in '"a"' '"die"' '"b"'
    ok pp-wait --timeout 10000
    mapfile -t pids < <(bodies out)
    ((${#pids[@]} == 3)) || pp_fail "expected 3 results, got: ${pids[*]}"
    [[ ${pids[0]} != "${pids[1]}" ]] || pp_fail "the processor was not restarted: ${pids[*]}"
    [[ ${pids[1]} == "${pids[2]}" ]] || pp_fail "the restarted processor was not kept running: ${pids[*]}"
    expect_output '0' field st reclaims
    expect_output '0' field st lag
    grep -q 'claim of st reclaimed: the processor died' "$NODE_LOG" ||
        pp_fail "the node log does not say that the processor died"
}

@test "a --stream processor is kept running, and --worker-restart-after N restarts it after N claims" {
    ok pp-systemproc add st --from in --to out --stream 'while read -r l; do echo "{\"ok\":$$}"; done'
    spawn_node --worker-restart-after 2
    ok pp-commit -q -t in 1 2 3 4 5
    ok pp-wait --timeout 10000
    mapfile -t pids < <(bodies out)
    ((${#pids[@]} == 5)) || pp_fail "expected 5 results, got: ${pids[*]}"
    [[ ${pids[0]} == "${pids[1]}" && ${pids[2]} == "${pids[3]}" ]] ||
        pp_fail "not kept running for 2 claims: ${pids[*]}"
    [[ ${pids[1]} != "${pids[2]}" && ${pids[3]} != "${pids[4]}" ]] ||
        pp_fail "not restarted after 2 claims: ${pids[*]}"
}

@test "--stream with -c above 1 gets a JSON array of logs, also for a claim of one log" {
    ok pp-systemproc add st --from in --to out -c 3 --stream 'jq -c --unbuffered "{ok: {got: .}}"'
    spawn_node
    ok pp-commit -q -t in 1
    ok pp-wait --timeout 10000
    ok pp-commit -q -t in 2 3
    ok pp-wait --timeout 10000
    expect_output '[1]
[2,3]' jq -c '.got | if type == "array" then map(.body) else {"not an array": .} end' <(bodies out)
}

# --- worker slots -----------------------------------------------------------------

@test "--workers 0 runs no systemProc" {
    ok pp-systemproc add sq --from nums --to out --exec 'jq -c .body'
    spawn_node --workers 0
    ok pp-commit -q -t nums 1 2
    sleep 1
    expect_output '""' field sq lastClaimedRange
    expect_output '2' field sq lag
    nothing_committed out
    must_fail 124 pp-wait --timeout 300
}

# add_rendezvous NAME OTHER: a systemProc whose processor waits (up to 5 s) for the one of
# OTHER to run at the same time; it answers "met" when it did, and fails otherwise.
add_rendezvous() {
    local dir=$BATS_TEST_TMPDIR
    ok pp-systemproc add "$1" --from "$1" --to met --exec "cat >/dev/null; : >'$dir/$1.on'
        i=0; while [ ! -e '$dir/$2.on' ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i + 1)); done
        [ -e '$dir/$2.on' ] && echo '\"$1 met $2\"'"
}

@test "worker slots run processors at the same time: --workers 2" {
    add_rendezvous p1 p2
    add_rendezvous p2 p1
    spawn_node --workers 2
    ok pp-commit -q -t p1 1
    ok pp-commit -q -t p2 1
    ok pp-wait --timeout 15000
    expect_output '"p1 met p2"
"p2 met p1"' sort <(bodies met)
    expect_output '0' field p1 reclaims
    expect_output '0' field p2 reclaims
}

@test "worker slots run processors at the same time: --worker-concurrency 2" {
    add_rendezvous p1 p2
    add_rendezvous p2 p1
    spawn_node --workers 1 --worker-concurrency 2
    ok pp-commit -q -t p1 1
    ok pp-commit -q -t p2 1
    ok pp-wait --timeout 15000
    expect_output '"p1 met p2"
"p2 met p1"' sort <(bodies met)
    expect_output '0' field p1 reclaims
    expect_output '0' field p2 reclaims
}

# --- stopping with work in flight -------------------------------------------------

@test "pp-shutdown lets the claim in flight finish: its results are committed with the ack" {
    ok pp-systemproc add slow --from a --to out --exec 'sleep 1; jq -c .body'
    spawn_node
    ok pp-commit -q -t a '"done"'
    wait_until 5 has_open_claim slow
    ok pp-shutdown
    pid_dead "$NODE_PID" || pp_fail "the node still runs"
    expect_output '"done"' bodies out
    expect_output '0' field slow lag
}

@test "pp-shutdown --timeout gives up with 124 (timeout); the node still stops" {
    ok pp-systemproc add slow --from a --to out --exec 'sleep 2; jq -c .body'
    spawn_node
    ok pp-commit -q -t a '"done"'
    wait_until 5 has_open_claim slow
    must_fail 124 pp-shutdown --timeout 200
    grep -q '^pp-shutdown: error: timeout:' <<<"$stderr" || pp_fail "not a timeout error: $stderr"
    expect_output "node: running (pid $NODE_PID)" node_line
    ok pp-shutdown --timeout 10000
    expect_output "node: no node runs" node_line
    expect_output '"done"' bodies out
}

# --- the GC timer -----------------------------------------------------------------

@test "--gc collects every --gc-interval: a topic once it has no active proc" {
    ok pp-commit -q -t free 1 2 3
    ok pp-commit -q -t held 1 2 3
    # A proc with an open claim and no previous claim holds its whole topic.
    ok pp-proc held -n p
    spawn_node --workers 0 --gc --gc-interval 100 --gc-min-prune-time 0
    wait_until 5 length_is free 0
    sleep 0.3
    expect_output 3 pp-length held
    ok pp-procs disable p
    wait_until 5 length_is held 0
    grep -q 'gc: free: collected 3 logs' "$NODE_LOG" || pp_fail "the node log does not note the collection"
}

@test "without --gc the node collects nothing" {
    ok pp-commit -q -t free 1 2 3
    spawn_node --workers 0 --gc-interval 100 --gc-min-prune-time 0
    sleep 0.5
    expect_output 3 pp-length free
}
