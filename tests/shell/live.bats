#!/usr/bin/env bats
# liveProcs from the shell: pp-live (CONTRACT.md §6 "pp-live", §3, §4). What it prints
# (--mode live|all, --format), that it acks what it printed, that its proc goes away when
# it exits (SIGTERM, SIGINT, SIGHUP, a closed stdout) unless it was named with -n, that a
# named one resumes after the last acked log, and --exec CMD --to T.
# Logs are committed at fixed clock times (`at MS`) so that ids are known; pp-live itself
# runs on the real clock. Every pp-live runs in the background with bounded waits, or under
# `timeout`.

load helpers

setup() {
    pp_setup
    command -v jq >/dev/null || pp_fail "jq is needed for these tests (apt-get install jq)"
    out="$BATS_TEST_TMPDIR/live.out"
    err="$BATS_TEST_TMPDIR/live.err"
}

# live_procs TOPIC: the names of the anonymous pp-live procs of TOPIC, one per line.
live_procs() {
    pp-procs list -t "$1" | jq -r 'select(.name | startswith("pp-live.")) | .name'
}

has_live_proc() { [[ -n $(live_procs "$1" 2>/dev/null) ]]; }

no_live_proc() {
    local left
    left=$(live_procs "$1") || return 1
    [[ -z $left ]] || pp_fail "pp-live left its proc behind: $left"
}

proc_exists() { pp-procs inspect "$1" >/dev/null 2>&1; }

# field PROC KEY: one field of `pp-procs inspect PROC`, as jq -c prints it.
field() {
    pp-procs inspect "$1" | jq -c ".$2"
}

field_is() { [[ $(field "$1" "$2" 2>/dev/null) == "$3" ]]; }

# start_live CHECK CMD...: start CMD (a pp-live) in the background, stdout to $out and
# stderr to $err, and wait until CHECK (a command) says its proc exists; sets $live_pid.
start_live() {
    local check=$1
    shift
    bg_start "$out" "$err" "$@"
    live_pid=$bg_pid
    wait_until 5 $check || pp_fail "pp-live did not start:" "$(cat "$err")"
}

# start_head_pipe: run `pp-live t --mode all | head -n 2 >$out` in the background, in a
# process group of its own (killed in teardown, pp-live included); the exit statuses of
# the two go to $rcs when the pipeline ends. Sets $pipe_pid.
start_head_pipe() {
    rcs="$BATS_TEST_TMPDIR/rcs"
    setsid bash -c 'pp-live t --mode all 2>"$3" | head -n 2 >"$1"; echo "${PIPESTATUS[*]}" >"$2"' \
        _ "$out" "$rcs" "$err" </dev/null >/dev/null 2>&1 3>&- &
    pipe_pid=$!
    PP_BG_GROUPS+=("$pipe_pid")
}

# stop_live [SIGNAL]: signal pp-live (default TERM); it must exit 0.
stop_live() {
    kill "-${1:-TERM}" "$live_pid"
    wait_pid 10 "$live_pid"
    ((status == 0)) || pp_fail "pp-live exited $status$(signal_note "$status") on SIG${1:-TERM}" "$(cat "$err")"
}

@test "--mode live (the default) prints only the logs committed after it started, as JSON lines, and acks them" {
    ok at 1000 pp-commit -q -t t '"old"'
    start_live "has_live_proc t" pp-live t
    ok at 2000 pp-commit -q -t t '"new1"' '{"n":2}'
    wait_until 5 has_lines "$out" 2
    name=$(live_procs t)
    wait_until 5 field_is "$name" lastAckedRange '"2000-2..2000-2"'
    expect_output 0 field "$name" lag
    stop_live
    expect_output '{"id":"2000-1","body":"new1"}
{"id":"2000-2","body":{"n":2}}' cat "$out"
    expect_output "" cat "$err"
}

@test "--mode all prints every log from the start, then the new ones" {
    ok at 1000 pp-commit -q -t t '"a"' '"b"'
    start_live "has_live_proc t" pp-live t --mode all
    wait_until 5 has_lines "$out" 2
    ok at 2000 pp-commit -q -t t '"c"'
    wait_until 5 has_lines "$out" 3
    stop_live
    expect_output '{"id":"1000-0","body":"a"}
{"id":"1000-1","body":"b"}
{"id":"2000-2","body":"c"}' cat "$out"
}

@test "--format body and --format id" {
    ok at 1000 pp-commit -q -t t '"a"' '{"b":[1,2]}'
    start_live "has_live_proc t" pp-live t --mode all --format body
    wait_until 5 has_lines "$out" 2
    stop_live
    expect_output '"a"
{"b":[1,2]}' cat "$out"
    start_live "has_live_proc t" pp-live t --mode all --format id
    wait_until 5 has_lines "$out" 2
    stop_live
    expect_output '1000-0
1000-1' cat "$out"
}

@test "-c COUNT claims up to COUNT logs at a time and prints each as its own line" {
    ok at 1000 pp-commit -q -t t 1 2 3
    start_live "proc_exists batch" pp-live t --mode all -c 2 -n batch --format body
    wait_until 5 has_lines "$out" 3
    wait_until 5 field_is batch lastAckedRange '"1000-2..1000-2"'
    expect_output '"1000-0..1000-1"' field batch previousClaimedRange
    expect_output 2 field batch count
    stop_live
    expect_output '1
2
3' cat "$out"
}

@test "pp-live waits for a topic that does not exist yet" {
    start_live "has_live_proc later" pp-live later --format body
    sleep 0.3
    kill -0 "$live_pid" || pp_fail "pp-live on an unknown topic exited:" "$(cat "$err")"
    ok pp-commit -q -t later '"hello"'
    wait_until 5 has_lines "$out" 1
    stop_live
    expect_output '"hello"' cat "$out"
}

@test "without -n, its proc is removed when pp-live exits on SIGTERM, SIGINT or SIGHUP" {
    ok at 1000 pp-commit -q -t t '"a"'
    for sig in TERM INT HUP; do
        start_live "has_live_proc t" pp-live t --mode all
        wait_until 5 has_lines "$out" 1
        stop_live "$sig"
        no_live_proc t
    done
    expect_output "" pp-procs list
}

@test "without -n, a closed stdout (| head -n 2) ends pp-live with exit 0 at its next log, and removes its proc" {
    ok at 1000 pp-commit -q -t t 1 2 3
    start_head_pipe
    wait_until 5 has_lines "$out" 2
    # pp-live learns that its reader has gone when it writes the next log.
    for ((i = 0; i < 50; i++)); do
        [[ -s $rcs ]] && break
        ok pp-commit -q -t t '"more"'
        sleep 0.1
    done
    wait_pid 10 "$pipe_pid"
    expect_output "0 0" cat "$rcs"
    expect_output '{"id":"1000-0","body":1}
{"id":"1000-1","body":2}' cat "$out"
    no_live_proc t
}

@test "pp-live | head -n 2 ends once head has gone, without waiting for another log" {
    ok at 1000 pp-commit -q -t t 1 2 3
    start_head_pipe
    wait_until 5 has_lines "$out" 2
    wait_pid 5 "$pipe_pid" || pp_fail "pp-live still runs after head exited" "$(pp-procs list -t t)"
    expect_output "0 0" cat "$rcs"
    no_live_proc t
}

@test "with -n NAME the proc is kept, and a later pp-live NAME resumes after the last acked log" {
    ok at 1000 pp-commit -q -t t '"a"' '"b"'
    start_live "proc_exists keep" pp-live t -n keep --mode all --format body
    wait_until 5 has_lines "$out" 2
    wait_until 5 field_is keep lastAckedRange '"1000-1..1000-1"'
    stop_live
    expect_output '"a"
"b"' cat "$out"
    expect_output '"active"' field keep status
    ok at 2000 pp-commit -q -t t '"c"' '"d"'
    expect_output 2 field keep lag
    # The proc keeps its offset: --mode (live, by default) does not matter any more.
    start_live "proc_exists keep" pp-live t -n keep --format body
    wait_until 5 has_lines "$out" 2
    wait_until 5 field_is keep lag 0
    stop_live
    expect_output '"c"
"d"' cat "$out"
    proc_exists keep || pp_fail "the named proc is gone"
}

@test "-n NAME of a proc that reads another topic is proc_name_not_unique; a disabled one is proc_is_disabled" {
    ok at 1000 pp-commit -q -t t 1
    ok pp-proc t -n other
    must_fail 1 proc_name_not_unique timeout 10 pp-live u -n other 3>&-
    expect_eq "" "$output" "stdout"
    ok pp-procs disable other
    must_fail 1 proc_is_disabled timeout 10 pp-live t -n other 3>&-
}

@test "--exec CMD --to T commits the results with the ack and prints nothing" {
    ok at 1000 pp-commit -q -t t 1 2
    start_live "has_live_proc t" pp-live t --mode all --exec 'jq -c ".body * 10"' --to r s
    wait_until 5 length_is r 2
    ok at 2000 pp-commit -q -t t 3
    wait_until 5 length_is r 3
    name=$(live_procs t)
    wait_until 5 field_is "$name" lag 0
    stop_live
    expect_output '10
20
30' pp-range r --format body
    expect_output '10
20
30' pp-range s --format body
    expect_output "" cat "$out"
    expect_output "" cat "$err"
    no_live_proc t
}

@test "--exec gets PIPEPROC_PROC and PIPEPROC_TOPIC; without --to its claims are only acked" {
    ok at 1000 pp-commit -q -t t 1
    seen="$BATS_TEST_TMPDIR/seen"
    start_live "proc_exists envp" pp-live t -n envp --mode all \
        --exec "cat >/dev/null; echo \"\$PIPEPROC_PROC \$PIPEPROC_TOPIC\" >'$seen'; echo 1"
    wait_until 5 field_is envp lag 0
    stop_live
    expect_output "envp t" cat "$seen"
    # No --to: no topic was written.
    expect_output "t" jq -r '.topics[].name' <(pp-status --json)
}

@test "--exec that fails is reclaimed and said on stderr; at max reclaims pp-live exits 1 (proc_is_disabled)" {
    ok at 1000 pp-commit -q -t t 1
    must_fail 1 proc_is_disabled timeout 20 pp-live t -n failing --mode all --exec 'cat >/dev/null; exit 1'
    expect_eq "" "$output" "stdout"
    reclaimed=$(grep -c '^pp-live: claim 1000-0\.\.1000-0 reclaimed: the processor exited with 1$' <<<"$stderr")
    expect_eq 10 "$reclaimed" "reclaim lines on stderr"
    expect_output '"disabled"' field failing status
    expect_output 10 field failing reclaims
}

@test "usage errors: --to without --exec, a count below 1, a bad mode or format, a bad name" {
    must_fail 2 timeout 10 pp-live t --to r 3>&-
    must_fail 2 timeout 10 pp-live t -c 0 3>&-
    must_fail 2 timeout 10 pp-live t --mode some 3>&-
    must_fail 2 timeout 10 pp-live t --format xml 3>&-
    must_fail 2 invalid_name timeout 10 pp-live 'bad topic' 3>&-
    must_fail 2 invalid_name timeout 10 pp-live t -n 'bad name' 3>&-
    must_fail 2 timeout 10 pp-live 3>&-
    expect_output "" pp-procs list
}

@test "--connect fails with connection_failed (exit 69)" {
    must_fail 69 connection_failed timeout 10 pp-live t --connect tcp://127.0.0.1:1 3>&-
}
