# Shared code of the reliability harness (sourced by crash.sh, corruption.sh, diskfull.sh,
# soak.sh, badinput.sh). It runs the real pp-* binaries from $PP_BIN against stores in a
# private work directory; every wait is bounded; every random choice comes from a printed
# seed so a run can be replayed (--seed N). Not safe to source twice in one shell.

set -u
set -o pipefail

PP_BIN="${PP_BIN:-/work/main/build/bin}"
PATH="$PP_BIN:$PATH"
REL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REL_PY="$REL_DIR/pprel.py"
# A python3 that starts fast (a pyenv shim costs ~0.25 s per start); -S: stdlib only.
if [[ -z ${REL_PYTHON:-} ]]; then
    if [[ -x /usr/bin/python3 ]]; then REL_PYTHON=/usr/bin/python3; else
        REL_PYTHON=$(python3 -c 'import sys; print(sys.executable)'); fi
fi
export PP_BIN PATH REL_DIR REL_PY REL_PYTHON

# pyrel CMD ARGS...: run a pprel.py command.
pyrel() { "$REL_PYTHON" -S "$REL_PY" "$@"; }

REL_NAME="$(basename "$0" .sh)"
REL_LONG=0
REL_SEED=""
REL_FAILS=0
REL_CHECKS=0
REL_KEEP="${PP_REL_KEEP:-0}"
REL_T0=$(date +%s.%N)

# Parse the options every script takes: --long, --seed N, --keep, --help.
rel_parse_args() {
    while (($#)); do
        case $1 in
        --long) REL_LONG=1 ;;
        --quick) REL_LONG=0 ;;
        --seed) REL_SEED=$2; shift ;;
        --seed=*) REL_SEED=${1#--seed=} ;;
        --keep) REL_KEEP=1 ;;
        -h | --help)
            sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
            exit 0
            ;;
        *) echo "$REL_NAME: unknown option '$1' (see --help)" >&2; exit 2 ;;
        esac
        shift
    done
    [[ -n $REL_SEED ]] || REL_SEED=${PP_REL_SEED:-$(((RANDOM << 15) | RANDOM))}
    RANDOM=$REL_SEED
    for tool in pp-commit pp-range pp-length pp-check pp-proc pp-ack pp-procs pp-gc pp-wait; do
        [[ -x $PP_BIN/$tool ]] || { echo "$REL_NAME: no executable $PP_BIN/$tool (build first, or set PP_BIN)" >&2; exit 2; }
    done
    REL_WORK=$(mktemp -d "${PP_REL_TMPDIR:-${TMPDIR:-/tmp}}/pp-rel-$REL_NAME.XXXXXX")
    export REL_WORK
    # Run a private copy of the tools: a rebuild of $PP_BIN during a run must not make
    # them vanish or change under the test.
    mkdir -p "$REL_WORK/bin"
    local try
    for ((try = 0; try < 180; try++)); do
        rel_copy_tools && break
        sleep 1 # a build is in progress
    done
    ((try < 180)) || { echo "$REL_NAME: could not copy working tools from $PP_BIN (a build going on for 3 minutes?)" >&2; exit 2; }
    PATH="$REL_WORK/bin:$PATH"
    # Nothing may fall back to the real user's state directory.
    unset PIPEPROC_NAMESPACE PIPEPROC_HOME PIPEPROC_CONNECT PIPEPROC_CONNECT_TIMEOUT \
        PIPEPROC_TLS_KEY PIPEPROC_TLS_CERT PIPEPROC_TLS_CA PIPEPROC_NOW_MS PIPEPROC_SYNC \
        PIPEPROC_SEGMENT_BYTES PIPEPROC_LOCATION
    export HOME="$REL_WORK/home" XDG_STATE_HOME="$REL_WORK/home/state"
    mkdir -p "$HOME"
    REL_GROUPS=()
    REL_PIDS=()
    trap rel_cleanup EXIT
    trap 'echo "$REL_NAME: interrupted" >&2; exit 130' INT TERM
    rel_log "mode $( ((REL_LONG)) && echo long || echo quick), seed $REL_SEED" \
        "(replay: $0 $( ((REL_LONG)) && echo '--long ')--seed $REL_SEED), work dir $REL_WORK"
}

rel_copy_tools() {
    local tool newest
    # A build in progress: wait (bounded by the caller) until nothing changed for 5 s.
    newest=$(find "$PP_BIN" "$PP_BIN/../libexec" -maxdepth 2 -type f -printf '%T@\n' 2>/dev/null | sort -n | tail -n 1)
    (($(date +%s) - ${newest%.*} >= 5)) || return 1
    rm -rf "$REL_WORK"/bin/* "$REL_WORK/libexec"
    cp -p "$PP_BIN"/pp "$PP_BIN"/pp-* "$REL_WORK/bin/" 2>/dev/null || return 1
    # Helpers the tools run from BINDIR/../libexec.
    [[ ! -d $PP_BIN/../libexec ]] || cp -a "$PP_BIN/../libexec" "$REL_WORK/libexec" || return 1
    for tool in pp-commit pp-range pp-length pp-check pp-proc pp-ack pp-procs pp-gc pp-wait; do
        "$REL_WORK/bin/$tool" --version >/dev/null 2>&1 || return 1
    done
    # The copy is complete: same file list and sizes as the source.
    [[ $(cd "$PP_BIN/.." && find bin libexec -path 'bin/pp*' -o -path 'libexec/*' -type f 2>/dev/null | sort | xargs -r stat -c '%n %s') == \
        $(cd "$REL_WORK" && find bin libexec -path 'bin/pp*' -o -path 'libexec/*' -type f 2>/dev/null | sort | xargs -r stat -c '%n %s') ]]
}

rel_cleanup() {
    local g p
    for g in "${REL_GROUPS[@]}"; do kill -9 -- "-$g" 2>/dev/null; done
    for p in "${REL_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    if ((REL_FAILS == 0 && REL_KEEP == 0)); then
        rm -rf "$REL_WORK"
    else
        echo "$REL_NAME: work dir kept: $REL_WORK" >&2
    fi
}

long_or() { if ((REL_LONG)); then echo "$1"; else echo "$2"; fi; }

rel_log() { printf '[%s %6.1fs] %s\n' "$REL_NAME" "$(rel_elapsed)" "$*"; }

rel_elapsed() { awk -v a="$(date +%s.%N)" -v b="$REL_T0" 'BEGIN { printf "%.1f", a - b }'; }

# rel_fail MESSAGE...: count a failed check and say why (stderr).
rel_fail() {
    REL_FAILS=$((REL_FAILS + 1))
    {
        printf 'FAIL [%s]: %s\n' "$REL_NAME" "$1"
        shift
        local l
        for l in "$@"; do printf '    %s\n' "$l"; done
    } >&2
    return 1
}

rel_pass() { REL_CHECKS=$((REL_CHECKS + 1)); }

# rel_run OUT ERR CMD...: run CMD with stdout/stderr to files; sets $rc (never aborts).
rel_run() {
    local out=$1 err=$2
    shift 2
    rc=0
    "$@" >"$out" 2>"$err" || rc=$?
}

# expect_rc WANT WHAT CMD...: run CMD (stdout/stderr in $REL_WORK/last.out/.err); count a
# failure unless it exits WANT. An exit by a signal is never the expected failure.
expect_rc() {
    local want=$1 what=$2
    shift 2
    rel_run "$REL_WORK/last.out" "$REL_WORK/last.err" "$@"
    if ((rc != want)); then
        local note=""
        ((rc > 128)) && note=" (killed by signal $((rc - 128)))"
        rel_fail "$what: expected exit $want, got $rc$note: $(rel_show_cmd "$@")" \
            "stdout: $(head -c 400 "$REL_WORK/last.out")" "stderr: $(head -c 600 "$REL_WORK/last.err")"
        return 1
    fi
    rel_pass
}

# rel_show_cmd CMD...: CMD as one would type it (long arguments shortened).
rel_show_cmd() {
    local a s="" LC_ALL=C
    for a in "$@"; do
        if ((${#a} > 80)); then a="${a:0:60}...(${#a} bytes)"; fi
        if [[ $a =~ ^[A-Za-z0-9._:/=@%+,-]+$ ]]; then
            s+="$a "
        elif [[ $a != *"'"* && $a =~ ^[[:print:]]*$ ]]; then
            s+="'$a' "
        else
            s+="$(printf '%q' "$a") "
        fi
    done
    printf '%s' "${s% }"
}

# Process groups: start_group DIR CMD... runs CMD in a new session (its own process group,
# detached from this shell's job table); sets $group.
start_group() {
    setsid "$@" </dev/null >/dev/null 2>&1 3>&- 4>&- &
    group=$!
    REL_GROUPS+=("$group")
}

# group_alive PGID: a process of the group that is not a zombie is left.
group_alive() {
    cat /proc/[0-9]*/stat 2>/dev/null | awk -v g="$1" '
        { sub(/^.*\) /, ""); if ($3 == g && $1 != "Z" && $1 != "X") found = 1 }
        END { exit !found }'
}

# kill_group PGID: SIGKILL the whole group, reap the leader, then wait (bounded) until no
# process of the group is left.
kill_group() {
    local g=$1 i
    kill -9 -- "-$g" 2>/dev/null
    wait "$g" 2>/dev/null
    for ((i = 0; i < 200; i++)); do
        group_alive "$g" || return 0
        kill -9 -- "-$g" 2>/dev/null
        sleep 0.025
    done
    rel_fail "process group $g still alive 5 s after SIGKILL"
}

# wait_for SECONDS CMD...: poll CMD every 20 ms until it succeeds; 1 after SECONDS.
wait_for() {
    local limit=$1 end
    shift
    end=$(($(date +%s%N) + limit * 1000000000))
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        (($(date +%s%N) < end)) || return 1
        sleep 0.02
    done
}

# wait_pid_bounded SECONDS PID: wait for a child; sets $wrc to its exit code, 1 on timeout.
wait_pid_bounded() {
    local limit=$1 pid=$2 end
    end=$(($(date +%s%N) + limit * 1000000000))
    while kill -0 "$pid" 2>/dev/null; do
        (($(date +%s%N) < end)) || return 1
        sleep 0.02
    done
    wrc=0
    wait "$pid" || wrc=$?
}

# rand_int LO HI: a random integer in [LO, HI]; rand_below N: one in [0, N).
rand_int() { echo $((((RANDOM << 15) | RANDOM) % ($2 - $1 + 1) + $1)); }
rand_below() { echo $((((RANDOM << 15) | RANDOM) % $1)); }

# sleep_ms MS
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

# copy_store SRC DST [--no-control]: a private copy of a store (sparse-aware).
copy_store() {
    rm -rf "$2"
    if [[ ${3:-} == --no-control ]]; then
        mkdir -p "$2"
        (cd "$1" && tar --exclude=./control -cf - .) | (cd "$2" && tar -xf -)
    else
        cp -a --sparse=always "$1" "$2"
    fi
}

# store_fingerprint STORE: sizes and checksums of every file but the control block (a
# cache that any tool may rebuild) and the empty LOCK file.
store_fingerprint() {
    (cd "$1" 2>/dev/null && find . -type f ! -name control ! -name LOCK -print0 | sort -z |
        xargs -0 -r md5sum) || echo "no store"
}

# rel_summary KEY=VALUE...: the script's result line; run.sh collects it.
rel_summary() {
    local line="RESULT $REL_NAME failures=$REL_FAILS checks=$REL_CHECKS $* seconds=$(printf '%.0f' "$(rel_elapsed)") seed=$REL_SEED"
    echo "$line"
    [[ -z ${PP_REL_SUMMARY:-} ]] || echo "$line" >>"$PP_REL_SUMMARY"
}

rel_exit() {
    if ((REL_FAILS > 0)); then
        rel_log "$REL_FAILS check(s) FAILED (seed $REL_SEED)"
        exit 1
    fi
    rel_log "all $REL_CHECKS checks passed"
    exit 0
}
