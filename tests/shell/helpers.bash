# Shared helpers for the pipeproc shell tests: they run the real pp-* binaries from $PP_BIN
# (default /work/main/build/bin; ctest sets it) against a fresh store per test.
# Every wait is bounded; background processes started with `bg_start` die in teardown.

PP_BIN="${PP_BIN:-/work/main/build/bin}"
PATH="$PP_BIN:$PATH"
export PP_BIN PATH

# A sanitizer build starts each process in 70-130 ms instead of 1-2 ms: tests that run
# hundreds of processes one after another give them PP_SLOW times as long.
PP_SLOW=1
[[ -z ${PP_SANITIZER_FLAGS:-} ]] || PP_SLOW=4

setup() { pp_setup; }
teardown() { pp_teardown; }

# A fresh, private store and environment for every test.
pp_setup() {
    unset PIPEPROC_NAMESPACE PIPEPROC_HOME PIPEPROC_CONNECT PIPEPROC_CONNECT_TIMEOUT \
        PIPEPROC_TLS_KEY PIPEPROC_TLS_CERT PIPEPROC_TLS_CA PIPEPROC_NOW_MS PIPEPROC_SYNC
    export PIPEPROC_LOCATION="$BATS_TEST_TMPDIR/store"
    # Nothing may fall back to the real user's state directory.
    export HOME="$BATS_TEST_TMPDIR/home" XDG_STATE_HOME="$BATS_TEST_TMPDIR/home/state"
    mkdir -p "$HOME"
    PP_BG_PIDS=()
    PP_BG_GROUPS=()
    local tool
    for tool in pp pp-commit pp-range pp-length pp-check; do
        [[ -x $PP_BIN/$tool ]] || pp_fail "no executable $PP_BIN/$tool (build first, or set PP_BIN)"
    done
}

pp_teardown() {
    local pid
    for pid in "${PP_BG_GROUPS[@]}"; do kill -9 -- "-$pid" 2>/dev/null || true; done
    for pid in "${PP_BG_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    return 0
}

pp_fail() {
    printf '%s\n' "$@" >&2
    return 1
}

# at MS CMD...: run CMD with the tools' clock fixed at MS milliseconds.
at() {
    PIPEPROC_NOW_MS=$1 "${@:2}"
}

# ok CMD...: run CMD, which must exit 0; on failure show its exit code, stdout and stderr.
# Leaves $output and $stderr (and $status) for further checks.
ok() {
    local out_f="$BATS_TEST_TMPDIR/ok.out" err_f="$BATS_TEST_TMPDIR/ok.err"
    status=0
    "$@" >"$out_f" 2>"$err_f" || status=$?
    output=$(<"$out_f")
    stderr=$(<"$err_f")
    if ((status != 0)); then
        pp_fail "command failed with exit $status$(signal_note "$status"): $*" \
            "--- stdout:" "$output" "--- stderr:" "$stderr"
    fi
}

signal_note() {
    if (($1 > 128)); then printf ' (killed by signal %d?)' $(($1 - 128)); fi
}

# must_fail CODE [WORD] CMD...: CMD must exit with exactly CODE (like git's test_must_fail,
# an exit by signal is never the expected failure), and when WORD (a snake_case error
# code such as invalid_topic) is given, stderr must hold `pp-TOOL: error: WORD:`.
# Stdin is passed through; leaves $output, $stderr and $status.
must_fail() {
    local want=$1 word=
    shift
    if [[ $1 =~ ^[a-z][a-z0-9]*(_[a-z0-9]+)+$ ]]; then
        word=$1
        shift
    fi
    local out_f="$BATS_TEST_TMPDIR/must_fail.out" err_f="$BATS_TEST_TMPDIR/must_fail.err"
    status=0
    "$@" >"$out_f" 2>"$err_f" || status=$?
    output=$(<"$out_f")
    stderr=$(<"$err_f")
    local show=("--- stdout:" "$output" "--- stderr:" "$stderr")
    if ((status == 0)); then
        pp_fail "expected exit $want, but it succeeded: $*" "${show[@]}"
        return 1
    fi
    if ((status > 128 && status != want)); then
        pp_fail "died by signal $((status - 128)) (exit $status), expected exit $want: $*" "${show[@]}"
        return 1
    fi
    if ((status != want)); then
        pp_fail "expected exit $want, got $status: $*" "${show[@]}"
        return 1
    fi
    if [[ -n $word ]]; then
        local tool_re
        tool_re=$(error_prefix_re "$@")
        if ! grep -Eq "^${tool_re}: error: ${word}:" "$err_f"; then
            pp_fail "stderr does not match '^${tool_re}: error: ${word}:': $*" "${show[@]}"
            return 1
        fi
    fi
}

# The error prefix a command must print: pp-X for pp-X or `pp X`; any pp tool otherwise.
error_prefix_re() {
    local i args=("$@")
    for ((i = 0; i < ${#args[@]}; i++)); do
        case ${args[i]##*/} in
        pp-*) printf '%s' "${args[i]##*/}"; return ;;
        pp) printf 'pp(-%s)?' "${args[i + 1]:-[a-z]+}"; return ;;
        esac
    done
    printf 'pp(-[a-z]+)?'
}

# stderr_is_error_line TOOL: $stderr (from must_fail) has the contract's error format.
stderr_is_error_line() {
    grep -Eq "^$1: error: [a-z][a-z0-9_]*: ." <<<"$stderr" ||
        pp_fail "stderr is not in the form '$1: error: CODE: message':" "$stderr"
}

# expect_output WANT CMD...: CMD exits 0 and its stdout is exactly WANT, one line each
# (WANT "" means no output at all; every printed line must end with a newline).
expect_output() {
    local want=$1
    shift
    local got_f="$BATS_TEST_TMPDIR/expect.out" want_f="$BATS_TEST_TMPDIR/expect.want"
    local err_f="$BATS_TEST_TMPDIR/expect.err"
    status=0
    "$@" >"$got_f" 2>"$err_f" || status=$?
    if [[ -n $want ]]; then printf '%s\n' "$want" >"$want_f"; else : >"$want_f"; fi
    output=$(<"$got_f")
    stderr=$(<"$err_f")
    if ((status != 0)); then
        pp_fail "command failed with exit $status$(signal_note "$status"): $*" \
            "--- stdout:" "$output" "--- stderr:" "$stderr"
        return 1
    fi
    if ! cmp -s "$want_f" "$got_f"; then
        pp_fail "unexpected output of: $*" "$(diff -u --label expected --label actual "$want_f" "$got_f" | head -60)"
        return 1
    fi
}

# expect_eq WANT GOT [WHAT]
expect_eq() {
    if [[ $1 != "$2" ]]; then
        pp_fail "${3:-value} differs" "--- expected:" "$1" "--- actual:" "$2"
        return 1
    fi
}

# wait_until SECONDS CMD...: poll CMD every 50 ms until it succeeds; fail after SECONDS.
wait_until() {
    local limit=$1 i
    shift
    for ((i = 0; i < limit * 20; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.05
    done
    "$@" >/dev/null 2>&1 || pp_fail "timed out after ${limit}s waiting for: $*"
}

# wait_pid SECONDS PID: wait for a background child to exit; sets $status to its exit code.
wait_pid() {
    local limit=$1 pid=$2 i
    for ((i = 0; i < limit * 20; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        pp_fail "process $pid still running after ${limit}s"
        return 1
    fi
    status=0
    wait "$pid" || status=$?
}

# bg_start OUT ERR CMD...: start CMD in the background (stdout to OUT, stderr to ERR),
# killed in teardown; sets $bg_pid.
bg_start() {
    local out=$1 err=$2
    shift 2
    "$@" >"$out" 2>"$err" </dev/null 3>&- &
    bg_pid=$!
    PP_BG_PIDS+=("$bg_pid")
}

# bg_stop PID: end a background process started by bg_start and reap it.
bg_stop() {
    kill "$1" 2>/dev/null || true
    wait_pid 5 "$1" || { kill -9 "$1" 2>/dev/null; wait "$1" 2>/dev/null || true; }
}

# line_count FILE: complete (newline-terminated) lines in FILE.
line_count() {
    if [[ -e $1 ]]; then wc -l <"$1" | tr -d ' '; else echo 0; fi
}

has_lines() { (($(line_count "$1") >= $2)); }

length_is() { [[ $(pp-length "$1" 2>/dev/null) == "$2" ]]; }

# topic_length_or_none TOPIC: pp-length's count, or "none" when the topic does not exist.
topic_length_or_none() {
    local n rc=0
    n=$(pp-length "$1" 2>"$BATS_TEST_TMPDIR/length.err") || rc=$?
    if ((rc == 0)); then
        echo "$n"
    elif ((rc == 1)) && grep -Eq '^pp-length: error: invalid_topic:' "$BATS_TEST_TMPDIR/length.err"; then
        echo none
    else
        pp_fail "pp-length $1 failed with exit $rc" "$(cat "$BATS_TEST_TMPDIR/length.err")"
        return 1
    fi
}

# nothing_committed TOPIC: the topic holds no log (absent, or present and empty).
nothing_committed() {
    local n
    n=$(topic_length_or_none "$1") || return 1
    [[ $n == none || $n == 0 ]] || pp_fail "topic $1 holds $n logs, expected none"
}

# ids_dense FILE: FILE holds ids TS-SEQ with SEQ = 0..n-1 in order, TS never decreasing.
ids_dense() {
    awk -F- '
        !/^[0-9]+-[0-9]+$/ { printf "line %d is not an id: %s\n", NR, $0; bad = 1; exit }
        $2 != NR - 1 { printf "line %d: sequence %s, expected %d\n", NR, $2, NR - 1; bad = 1; exit }
        NR > 1 && $1 + 0 < ts { printf "line %d: timestamp %s < previous %s\n", NR, $1, ts; bad = 1; exit }
        { ts = $1 + 0 }
        END { exit bad }
    ' "$1" >&2
}

# Segment files of a topic, in order of their first sequence.
segments() {
    ls "$PIPEPROC_LOCATION/topics/$1/"*.log 2>/dev/null | sort -V
}

last_segment() {
    local seg
    seg=$(segments "$1" | tail -n 1)
    [[ -n $seg ]] || {
        pp_fail "no segment file $PIPEPROC_LOCATION/topics/$1/*.log" \
            "$(find "$PIPEPROC_LOCATION" 2>&1 | head -40)"
        return 1
    }
    printf '%s\n' "$seg"
}

file_size() { stat -c %s "$1"; }
