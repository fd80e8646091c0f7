#!/usr/bin/env bash
# pipeproc benchmarks, part 2: procs and GC against baselines (Redis Streams consumer
# groups, redis-cli, fork+exec of /bin/true, pp-length/pp-gc with nothing to do), all
# measured in the same run. See bench/README.md (measurements 7-10).
#
#   bench/procs.sh [--quick] [--strict] [--keep]
#
# env: PP_BIN       directory with the pp-* tools and bench_claim_ack (default ../build/bin
#                   relative to this script)
#      PP_BUILD     the build directory, to compile bench/cpp/wake_latency.cpp when
#                   PP_BIN has no bench_wake_latency (default: the parent of PP_BIN)
#      BENCH_DIR    scratch directory (default /tmp/pipeproc-bench); same file system as
#                   the checkout; the GC test reuses run.sh's cached seek topic there
#      BENCH_REBUILD_CACHE=1   rebuild the cached seek store
#
# Run alone it prints a report (also saved as $BENCH_DIR/report-procs-{quick,full}.txt);
# run.sh calls it with PROCS_RES, PROCS_RAW and PROCS_NOTES set, and then it appends its
# rows to run.sh's tables instead. Exit status as run.sh: 1 when a measurement could not
# be made (or on a FAIL with --strict), 2 on usage errors.
set -euo pipefail
shopt -s inherit_errexit

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }

QUICK=0 STRICT=0 KEEP=0
for arg in "$@"; do
    case $arg in
        --quick) QUICK=1 ;;
        --strict) STRICT=1 ;;
        --keep) KEEP=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "procs.sh: unknown argument: $arg" >&2; usage >&2; exit 2 ;;
    esac
done

log()  { printf '== %s %s\n' "$(date +%T)" "$*" >&2; }
warn() { printf '!! %s\n' "$*" >&2; NOTES+=("WARNING: $*"); }
die()  { printf 'procs.sh: %s\n' "$*" >&2; exit 2; }

NOTES=()
ERRORS=0

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
PP_BIN=${PP_BIN:-$SCRIPT_DIR/../build/bin}
[ -d "$PP_BIN" ] || die "PP_BIN $PP_BIN does not exist (build first, or set PP_BIN)"
PP_BIN=$(cd "$PP_BIN" && pwd -P)
PP_BUILD=${PP_BUILD:-$(dirname "$PP_BIN")}
TOOLS=(pp-commit pp-range pp-length pp-proc pp-ack pp-procs pp-gc)
for t in "${TOOLS[@]}"; do
    [ -x "$PP_BIN/$t" ] || die "$PP_BIN/$t missing or not executable"
done
for t in hyperfine redis-server redis-cli python3 jq awk; do
    command -v "$t" >/dev/null || die "$t is required (apt-get install hyperfine redis-server redis-tools jq)"
done
REDIS_CLI=$(command -v redis-cli)

export LC_ALL=C          # "." in $EPOCHREALTIME and in awk's numbers
unset PIPEPROC_CONNECT PIPEPROC_SYNC PIPEPROC_NAMESPACE PIPEPROC_HOME PIPEPROC_LOCATION \
      PIPEPROC_TLS_KEY PIPEPROC_TLS_CERT PIPEPROC_TLS_CA PIPEPROC_CONNECT_TIMEOUT

if [ "$QUICK" = 1 ]; then
    MODE=quick
    N_CLAIM=50000       # in-process claim+ack cycles, and Redis XREADGROUP+XACK pairs
    N_LOOP=100          # pp-proc + pp-ack process pairs in a shell loop
    N_WAKE=20           # wake-latency rounds
    N_SEEK=1000000      # logs in the GC topic (run.sh's cached seek topic)
else
    MODE=full
    N_CLAIM=200000
    N_LOOP=300
    N_WAKE=50
    N_SEEK=10000000
fi
RUNS=3                  # rounds of the in-process claim+ack measurement (best of 3)
LOOP_RUNS=5             # rounds of the process loops (best of 5)
GC_RUNS=5               # pp-gc runs, each on a fresh copy of the seek store
LEN_RUNS=50             # pp-length / no-op pp-gc runs (-N, medians)
LEN_BLOCK=5             # pp-length before/after GC alternate in blocks of 5 runs
WAKE_SETTLE_MS=30
CLAIM_RATE_TARGET=200000
WAKE_TARGET_US=1000
GC_TARGET_MS=100

BENCH_DIR=${BENCH_DIR:-/tmp/pipeproc-bench}
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd -P)
CACHE=$BENCH_DIR/cache
P=$BENCH_DIR/procs
rm -rf "$P"
mkdir -p "$P/hf" "$P/logs" "$P/bin" "$CACHE"

# Work on a copy of the tools (a rebuild during the run must not swap binaries under us).
for t in "${TOOLS[@]}"; do cp -p "$PP_BIN/$t" "$P/bin/$t"; done
# and the helpers pp-commit (stdin) and pp-ack --commit run from ../libexec
[ ! -d "$PP_BIN/../libexec" ] || cp -a "$PP_BIN/../libexec" "$P/libexec"
CXX=${CXX:-g++}
compile_bench() {  # SOURCE OUT: the command the brief gives for bench programs not yet in CMake
    "$CXX" -O2 -std=c++20 -I"$SCRIPT_DIR/../include" "$1" \
        "$PP_BUILD/libppproc/libpipeproc-proc.a" "$PP_BUILD/libpplog/libpipeproc-log.a" \
        -lsimdjson -lxxhash -lpthread -o "$2"
}
for b in claim_ack:bench_claim_ack wake_latency:bench_wake_latency; do
    src=$SCRIPT_DIR/cpp/${b%%:*}.cpp exe=${b#*:}
    if [ -x "$PP_BIN/$exe" ]; then
        cp -p "$PP_BIN/$exe" "$P/bin/$exe"
        NOTES+=("$exe: from $PP_BIN")
    else
        log "compiling $(basename "$src") ($exe is not in $PP_BIN)"
        compile_bench "$src" "$P/bin/$exe" 2>"$P/logs/$exe-build.err" \
            || die "could not compile $src; see $P/logs/$exe-build.err"
        NOTES+=("$exe: compiled from bench/cpp/$(basename "$src") with $CXX -O2 against $PP_BUILD (not in $PP_BIN)")
    fi
done
B=$P/bin
PP_VERSION=$("$B/pp-commit" --version 2>/dev/null | head -n1) || PP_VERSION="unknown (--version failed)"
[ -n "$PP_VERSION" ] || PP_VERSION=unknown
PP_SUMS=$(cd "$B" && for t in pp-proc pp-ack pp-gc pp-length bench_claim_ack bench_wake_latency; do printf '%s:%s ' "$t" "$(sha256sum "$t" | cut -c1-10)"; done)

# Embedded in run.sh: append to its tables. Alone: our own.
if [ -n "${PROCS_RES:-}" ]; then
    RES=$PROCS_RES RAW=$PROCS_RAW EMBEDDED=1
else
    RES=$P/results.tsv RAW=$P/raw.tsv EMBEDDED=0
    : >"$RES"; : >"$RAW"
fi

START_TS=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOAD_START%% *}" -v n="$(nproc)" 'BEGIN{exit !(l > n / 4)}'; then
    warn "procs: the machine is busy at the start (load average $LOAD_START on $(nproc) cores): expect noisy numbers"
fi

# ---------------------------------------------------------------------------- redis
# A private redis-server on a unix socket only (--port 0), as run.sh's: AOF everysec, no RDB.
R=$P/redis
redis_stop() {
    local pid
    [ -f "$R.pid" ] || return 0
    pid=$(cat "$R.pid" 2>/dev/null) || return 0
    [ -n "$pid" ] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        "$REDIS_CLI" -s "$R.sock" shutdown nosave >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
        for _ in $(seq 500); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
    fi
    rm -f "$R.pid"
}
cleanup() {
    redis_stop || true
    if [ "$KEEP" = 0 ]; then
        rm -rf "$P/claim" "$P/loop" "$P/wake" "$P/gc" "$R.dir" "$P"/*.resp 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# redis-fresh.sh [XADD-RESP]: a fresh, empty server; with a RESP file of XADDs, loads it
# and creates the consumer group g on stream s from the start (the hyperfine --prepare
# step: not timed).
cat >"$P/redis-fresh.sh" <<EOF
#!/bin/sh
set -e
if [ -f '$R.pid' ]; then
    pid=\$(cat '$R.pid')
    if kill -0 "\$pid" 2>/dev/null; then
        '$REDIS_CLI' -s '$R.sock' shutdown nosave >/dev/null 2>&1 || kill "\$pid"
        while kill -0 "\$pid" 2>/dev/null; do sleep 0.02; done
    fi
fi
rm -rf '$R.dir'; mkdir -p '$R.dir'
redis-server --port 0 --unixsocket '$R.sock' --unixsocketperm 700 \\
    --dir '$R.dir' --appendonly yes --appendfsync everysec --save '' \\
    --daemonize yes --pidfile '$R.pid' --logfile '$R.log'
i=0
until '$REDIS_CLI' -s '$R.sock' ping >/dev/null 2>&1; do
    i=\$((i+1)); [ \$i -lt 500 ] || { echo "redis-server did not start, see $R.log" >&2; exit 1; }
    sleep 0.02
done
if [ -n "\${1:-}" ]; then
    '$REDIS_CLI' -s '$R.sock' --pipe < "\$1" >/dev/null
    '$REDIS_CLI' -s '$R.sock' XGROUP CREATE s g 0 >/dev/null
fi
sync
EOF
chmod +x "$P/redis-fresh.sh"

# RESP files. Stream s holds N entries with the ids 1-0 .. N-0 and bodies {"i":K}.
resp_xadd() {  # N OUT
    awk -v n="$1" 'BEGIN { ORS = ""
        for (i = 1; i <= n; i++) { id = i "-0"; b = "{\"i\":" i "}"
            printf "*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$%d\r\n%s\r\n$1\r\nb\r\n$%d\r\n%s\r\n", length(id), id, length(b), b } }' >"$2"
}
resp_claim() {  # N OUT: N x (XREADGROUP GROUP g c COUNT 1 STREAMS s > ; XACK s g K-0)
    awk -v n="$1" 'BEGIN { ORS = ""
        for (i = 1; i <= n; i++) { id = i "-0"
            printf "*9\r\n$10\r\nXREADGROUP\r\n$5\r\nGROUP\r\n$1\r\ng\r\n$1\r\nc\r\n$5\r\nCOUNT\r\n$1\r\n1\r\n$7\r\nSTREAMS\r\n$1\r\ns\r\n$1\r\n>\r\n"
            printf "*4\r\n$4\r\nXACK\r\n$1\r\ns\r\n$1\r\ng\r\n$%d\r\n%s\r\n", length(id), id } }' >"$2"
}
# Checks the group consumed the whole stream: nothing pending, N entries read, nothing left.
redis_group_done() {  # N WHAT
    local pending read left
    pending=$("$REDIS_CLI" -s "$R.sock" XPENDING s g 2>&1 | head -n1) || true
    read=$("$REDIS_CLI" -s "$R.sock" XINFO GROUPS s 2>&1 | awk 'p{print; exit} $0=="entries-read"{p=1}') || true
    left=$("$REDIS_CLI" -s "$R.sock" XREADGROUP GROUP g c COUNT 1 STREAMS s '>' 2>&1) || true
    if [ "$pending" != 0 ] || [ "$read" != "$1" ] || [ -n "$left" ]; then
        warn "$2: the group did not consume the stream (pending '$pending', entries-read '$read', expected $1, left '$left')"
        return 1
    fi
}

# ---------------------------------------------------------------------------- helpers
# (the same as run.sh's)
q() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

hf() {  # KEY LABEL LOCATION NOTE -- HYPERFINE-ARGS...  (NOTE: "-", or "rate:N unit" for N/best)
    local key=$1 label=$2 loc=$3 what=$4; shift 5
    local json=$P/hf/$key.json envv=()
    [ "$loc" = - ] || envv=(PIPEPROC_LOCATION="$loc")
    log "$label"
    if ! env "${envv[@]}" hyperfine --style basic --export-json "$json" -n "$key" "$@" \
            >"$P/logs/$key.log" 2>&1; then
        warn "$key: benchmark failed (a command exited non-zero); see $P/logs/$key.log:"
        tail -n 5 "$P/logs/$key.log" | sed 's/^/     /' >&2
        local cmd=${*: -1} why
        why=$(env "${envv[@]}" sh -c "$cmd" 2>&1 >/dev/null </dev/null | head -n 2 | tr '\n' ' ') || true
        [ -z "$why" ] || NOTES+=("  $key stderr: $why")
        ERRORS=$((ERRORS + 1))
        return 1
    fi
    local stats note=
    stats=$(jq -r '.results[0] | [(.times|length), .min, .median, .max, (.stddev // 0)] | @tsv' "$json")
    case $what in
        rate:*) what=${what#rate:}
                note=$(awk -v n="${what%% *}" -v u="${what#* }" -v t="$(cut -f2 <<<"$stats")" 'BEGIN{printf "%.0f %s/s", n/t, u}') ;;
    esac
    printf '%s\t%s\t%s\t%s\n' "$key" "$label" "$stats" "$note" >>"$RAW"
}

raw_row() {  # KEY LABEL RUNS BEST MEDIAN WORST NOTE (seconds)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t0\t%s\n' "$@" >>"$RAW"
}

stat_of() {  # KEY best|median|worst -> seconds, or NA
    local col
    case $2 in best) col=4 ;; median) col=5 ;; worst) col=6 ;; *) col=4 ;; esac
    awk -F'\t' -v k="$1" -v c="$col" '$1==k{print $c; f=1} END{if(!f) print "NA"}' "$RAW"
}

verdict_ratio() {  # LABEL NUM_KEY DEN_KEY STAT OP TARGET
    local label=$1 nk=$2 dk=$3 st=$4 op=$5 target=$6 n d
    n=$(stat_of "$nk" "$st"); d=$(stat_of "$dk" "$st")
    if [ "$n" = NA ] || [ "$d" = NA ]; then
        printf '%s\t%s\t%s %s\t%s\t%s\n' "$label" "n/a" "$op" "$target" "ERROR" "not measured" >>"$RES"
        return
    fi
    awk -v l="$label" -v n="$n" -v d="$d" -v op="$op" -v t="$target" -v st="$st" -v nk="$nk" -v dk="$dk" 'BEGIN{
        r = n / d
        ok = (op == ">=") ? (r >= t) : (op == "<=") ? (r <= t) : (op == "<") ? (r < t) : (r > t)
        printf "%s\t%.3f\t%s %s\t%s\t%s %s=%.4gs / %s=%.4gs\n", l, r, op, t, ok ? "PASS" : "FAIL", st, nk, n, dk, d
    }' >>"$RES"
}

verdict_value() {  # LABEL VALUE OP TARGET UNIT DETAIL
    local label=$1 v=$2 op=$3 target=$4 unit=$5 detail=$6
    if [ -z "$v" ] || [ "$v" = NA ]; then
        printf '%s\t%s\t%s %s %s\t%s\t%s\n' "$label" "n/a" "$op" "$target" "$unit" "ERROR" "$detail" >>"$RES"
        return
    fi
    awk -v l="$label" -v v="$v" -v op="$op" -v t="$target" -v u="$unit" -v dt="$detail" 'BEGIN{
        ok = (op == "<") ? (v < t) : (op == "<=") ? (v <= t) : (op == ">=") ? (v >= t) : (v > t)
        printf "%s\t%s %s\t%s %s %s\t%s\t%s\n", l, v, u, op, t, u, ok ? "PASS" : "FAIL", dt
    }' >>"$RES"
}

info_row() {  # LABEL VALUE DETAIL (no target)
    printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "-" "info" "$3" >>"$RES"
}

# Interleaved timing (the contenders of one measurement take turns, so that a load spike
# hits them alike): timed KEY CMD... runs CMD (stdout to /dev/null) and appends its wall
# seconds to $TIMES/KEY; raw_times KEY LABEL N UNIT turns them into a raw row.
TIMES=$P/times
mkdir -p "$TIMES"
timed() {
    local key=$1 t0 t1; shift
    t0=$EPOCHREALTIME
    "$@" >/dev/null 2>>"$P/logs/$key.err" || return 1
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.6f\n", b - a}' >>"$TIMES/$key"
}
raw_times() {  # KEY LABEL N UNIT (N "-": no rate note)
    local f=$TIMES/$1 n best med worst
    [ -s "$f" ] || return 0
    read -r n best med worst < <(sort -g "$f" | awk '{a[NR]=$1} END{m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; print NR, a[1], m, a[NR]}')
    raw_row "$1" "$2" "$n" "$best" "$med" "$worst" "$(awk -v n="$3" -v t="$best" -v u="$4" 'BEGIN{ if (n != "-") printf "%.0f %s/s", n/t, u }')"
}
# hf_times KEY LOCATION RUNS WARMUP CMD [PREPARE]: one block of RUNS hyperfine -N runs of
# CMD with PIPEPROC_LOCATION=LOCATION ("-": unset); the times go to $TIMES/KEY. Blocks of
# two commands alternate, as with timed, at hyperfine's precision.
hf_times() {
    local key=$1 json=$P/hf/$1.block.json envv=() prep=()
    [ "$2" = - ] || envv=(PIPEPROC_LOCATION="$2")
    [ -z "${6:-}" ] || prep=(--prepare "$6")
    env "${envv[@]}" hyperfine -N --style basic --warmup "$4" --runs "$3" "${prep[@]}" --export-json "$json" "$5" \
        >>"$P/logs/$key.log" 2>&1 || return 1
    jq -r '.results[0].times[]' "$json" >>"$TIMES/$key"
}

rate() { awk -v n="$1" -v t="$2" 'BEGIN{ if (t == "NA") print "NA"; else printf "%.0f", n / t }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "NA" || b == "NA") print "n/a"; else printf "%.2f", a / b }'; }
ms() { awk -v t="$1" 'BEGIN{ if (t == "NA") print "n/a"; else printf "%.3f ms", t * 1000 }'; }
dsize() { du -sb "$1" | cut -f1; }

# ---------------------------------------------------------------------------- 7. claim+ack in process
# bench_claim_ack STORE N commits N logs (not timed) and times N claim+ack cycles with
# COUNT 1 through the library (proc_claim then proc_ack: two commits a cycle; with
# --one-commit, proc_ack_claim: an ack and the next claim share one commit, as a consumer
# loop such as pp-live does); it prints "N claim+ack cycles in S s: R/s". Against: Redis
# XREADGROUP COUNT 1 + XACK, N pairs pipelined by one redis-cli --pipe over the unix
# socket (stream and group loaded into a fresh server first, not timed). The contenders
# take turns, RUNS rounds, so that both see the same load; best of RUNS each.
CL=$P/claim
mkdir -p "$CL"
resp_xadd "$N_CLAIM" "$P/xadd-claim.resp"
resp_claim "$N_CLAIM" "$P/claim.resp"
cat "$P/xadd-claim.resp" "$P/claim.resp" >/dev/null
log "claim+ack: bench_claim_ack vs redis-cli --pipe, $N_CLAIM cycles, $RUNS rounds"
claim_pp() {  # KEY [--one-commit]: one round of bench_claim_ack into $TIMES/KEY; 1 on failure
    rm -rf "$CL/store"; sync
    if out=$("$B/bench_claim_ack" "$CL/store" "$N_CLAIM" "${@:2}" 2>>"$P/logs/$1.err"); then
        echo "$out" >>"$P/logs/$1.log"
        # seconds from the rate (the printed seconds have 3 decimals only)
        awk -v n="$N_CLAIM" '{ r = $NF; sub("/s", "", r); printf "%.6f\n", n / r }' <<<"$out" >>"$TIMES/$1"
    else
        warn "claim+ack: bench_claim_ack $N_CLAIM $* failed: $(head -c 300 "$P/logs/$1.err")"
        ERRORS=$((ERRORS + 1)); rm -f "$TIMES/$1"; return 1
    fi
}
ok_pp=1 ok_pp1=1 ok_redis=1
for ((i = 1; i <= RUNS; i++)); do
    [ "$ok_pp" = 0 ] || claim_pp claimack-pp || ok_pp=0
    [ "$ok_pp1" = 0 ] || claim_pp claimack-pp1 --one-commit || ok_pp1=0
    if [ "$ok_redis" = 1 ]; then
        if "$P/redis-fresh.sh" "$P/xadd-claim.resp" 2>>"$P/logs/claimack-redis.err" \
                && timed claimack-redis "$REDIS_CLI" -s "$R.sock" --pipe <"$P/claim.resp" \
                && redis_group_done "$N_CLAIM" "claim+ack redis"; then :
        else
            warn "claim+ack: the Redis run failed: $(head -c 300 "$P/logs/claimack-redis.err")"
            ERRORS=$((ERRORS + 1)); ok_redis=0; rm -f "$TIMES/claimack-redis"
        fi
    fi
done
rm -rf "$CL/store"
redis_stop
raw_times claimack-pp "claim+ack: bench_claim_ack, $N_CLAIM cycles, COUNT 1" "$N_CLAIM" cycles
raw_times claimack-pp1 "claim+ack: bench_claim_ack --one-commit (proc_ack_claim), $N_CLAIM cycles" "$N_CLAIM" cycles
raw_times claimack-redis "claim+ack: redis-cli --pipe, $N_CLAIM x (XREADGROUP+XACK)" "$N_CLAIM" pairs

verdict_value "claim+ack in process, COUNT 1 (bench_claim_ack)" \
    "$(rate "$N_CLAIM" "$(stat_of claimack-pp best)")" ">=" $CLAIM_RATE_TARGET "/s" \
    "best of $RUNS; $N_CLAIM cycles each on a fresh store (commit not timed); median $(rate "$N_CLAIM" "$(stat_of claimack-pp median)")/s"
verdict_value "claim+ack in process, ack and next claim in one commit (proc_ack_claim)" \
    "$(rate "$N_CLAIM" "$(stat_of claimack-pp1 best)")" ">=" $CLAIM_RATE_TARGET "/s" \
    "best of $RUNS; median $(rate "$N_CLAIM" "$(stat_of claimack-pp1 median)")/s"
verdict_ratio "claim+ack in process vs Redis XREADGROUP+XACK (x faster)" claimack-redis claimack-pp best ">=" 3
verdict_ratio "claim+ack, ack and next claim in one commit (proc_ack_claim) vs Redis (x faster)" claimack-redis claimack-pp1 best ">=" 3
t=$(stat_of claimack-redis best)
[ "$t" = NA ] || info_row "claim+ack: Redis XREADGROUP+XACK pipelined" "$(rate "$N_CLAIM" "$t") /s" \
    "best of $RUNS: $N_CLAIM pairs in $(ms "$t") through one redis-cli --pipe (unix socket); ratio of the medians $(ratio "$(stat_of claimack-redis median)" "$(stat_of claimack-pp median)")"

# ---------------------------------------------------------------------------- 8. claim/ack processes
# A shell loop of N x (pp-proc T -n p; pp-ack p) over N logs, against N x (redis-cli
# XREADGROUP ... COUNT 1 STREAMS s >; redis-cli XACK s g ID) on a stream of N entries,
# and N x (/bin/true; /bin/true) as the fork+exec floor. The same shell (sh) runs each;
# each starts from a freshly prepared store / server (not timed). The three take turns,
# LOOP_RUNS rounds; best of LOOP_RUNS each.
LP=$P/loop
mkdir -p "$LP"
awk -v n="$N_LOOP" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"i\":%d}\n", i }' >"$LP/logs.jsonl"
cat >"$LP/prepare-pp.sh" <<EOS
#!/bin/sh
set -e
rm -rf '$LP/store'
PIPEPROC_LOCATION='$LP/store' '$B/pp-commit' -t T --no-sync -q < '$LP/logs.jsonl'
sync
EOS
cat >"$LP/loop-pp.sh" <<EOS
i=0
while [ \$i -lt $N_LOOP ]; do
    PIPEPROC_LOCATION='$LP/store' '$B/pp-proc' T -n p >/dev/null || exit 1
    PIPEPROC_LOCATION='$LP/store' '$B/pp-ack' p >/dev/null || exit 1
    i=\$((i + 1))
done
EOS
cat >"$LP/loop-redis.sh" <<EOS
i=1
while [ \$i -le $N_LOOP ]; do
    '$REDIS_CLI' -s '$R.sock' XREADGROUP GROUP g c COUNT 1 STREAMS s '>' >/dev/null || exit 1
    '$REDIS_CLI' -s '$R.sock' XACK s g \$i-0 >/dev/null || exit 1
    i=\$((i + 1))
done
EOS
cat >"$LP/loop-true.sh" <<EOS
i=0
while [ \$i -lt $N_LOOP ]; do
    /bin/true || exit 1
    /bin/true || exit 1
    i=\$((i + 1))
done
EOS
chmod +x "$LP"/*.sh
resp_xadd "$N_LOOP" "$P/xadd-loop.resp"

log "procs loop: $N_LOOP x (pp-proc; pp-ack) vs (redis-cli; redis-cli) vs (/bin/true; /bin/true), $LOOP_RUNS rounds"
ok_pp=1 ok_redis=1
for ((i = 1; i <= LOOP_RUNS; i++)); do
    if [ "$ok_pp" = 1 ]; then
        if "$LP/prepare-pp.sh" 2>>"$P/logs/loop-pp.err" && timed loop-pp sh "$LP/loop-pp.sh"; then
            st=$(PIPEPROC_LOCATION=$LP/store "$B/pp-procs" inspect p 2>&1) || true
            if [ "$(jq -r .lag <<<"$st" 2>/dev/null)" != 0 ] || [[ "$(jq -r .lastAckedRange <<<"$st" 2>/dev/null)" != *-$((N_LOOP - 1)) ]]; then
                warn "procs loop pp: proc p did not ack every log: $st"
                ERRORS=$((ERRORS + 1)); ok_pp=0; rm -f "$TIMES/loop-pp"
            fi
        else
            warn "procs loop pp: failed: $(head -c 300 "$P/logs/loop-pp.err")"
            ERRORS=$((ERRORS + 1)); ok_pp=0; rm -f "$TIMES/loop-pp"
        fi
    fi
    if [ "$ok_redis" = 1 ]; then
        if "$P/redis-fresh.sh" "$P/xadd-loop.resp" 2>>"$P/logs/loop-redis.err" \
                && timed loop-redis sh "$LP/loop-redis.sh" && redis_group_done "$N_LOOP" "procs loop redis"; then :
        else
            warn "procs loop redis: failed: $(head -c 300 "$P/logs/loop-redis.err")"
            ERRORS=$((ERRORS + 1)); ok_redis=0; rm -f "$TIMES/loop-redis"
        fi
    fi
    timed loop-true sh "$LP/loop-true.sh" || true
done
redis_stop
raw_times loop-pp "procs loop: $N_LOOP x (pp-proc T -n p; pp-ack p)" "$N_LOOP" pairs
raw_times loop-redis "procs loop: $N_LOOP x (redis-cli XREADGROUP; redis-cli XACK)" "$N_LOOP" pairs
raw_times loop-true "procs loop: $N_LOOP x (/bin/true; /bin/true) (floor)" "$N_LOOP" pairs

verdict_ratio "procs loop: pp-proc+pp-ack vs redis-cli pair (x faster)" loop-redis loop-pp best ">=" 3
a=$(stat_of loop-pp best) b=$(stat_of loop-redis best) c=$(stat_of loop-true best)
[ "$a" = NA ] || info_row "procs loop: pairs/s (pp; redis-cli; /bin/true)" "$(rate "$N_LOOP" "$a") /s" \
    "best of $LOOP_RUNS: pp $(ms "$a"), redis-cli $(ms "$b"), /bin/true $(ms "$c") for $N_LOOP pairs; per pair: pp $(awk -v n="$N_LOOP" -v t="$a" 'BEGIN{printf "%.2f ms", t/n*1000}'); ratio of the medians $(ratio "$(stat_of loop-redis median)" "$(stat_of loop-pp median)")"
# What the tools add beyond two fork+execs, pp vs redis-cli: (redis - floor) / (pp - floor).
if [ "$a" != NA ] && [ "$b" != NA ] && [ "$c" != NA ]; then
    info_row "procs loop: beyond the fork+exec floor, pp vs redis-cli" \
        "$(awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN{ if (a > c) printf "%.2fx", (b - c) / (a - c); else print "n/a" }')" \
        "per pair above two /bin/true: pp $(awk -v a="$a" -v c="$c" -v n="$N_LOOP" 'BEGIN{printf "%.2f ms", (a-c)/n*1000}'), redis-cli $(awk -v b="$b" -v c="$c" -v n="$N_LOOP" 'BEGIN{printf "%.2f ms", (b-c)/n*1000}'); with tools that cost nothing beyond fork+exec the ratio would be redis / floor = $(ratio "$b" "$c")"
fi

# ---------------------------------------------------------------------------- 9. wake latency
# bench_wake_latency: a sleeping `pp-proc w -n w --wait 0 --format id`, one commit
# (sync=false) from this process, time until its line arrives on the pipe. See
# bench/cpp/wake_latency.cpp.
WK=$P/wake
mkdir -p "$WK"
log "wake: bench_wake_latency, $N_WAKE rounds"
if out=$("$B/bench_wake_latency" "$WK/store" "$B/pp-proc" "$N_WAKE" "$WAKE_SETTLE_MS" 2>"$P/logs/wake.err"); then
    echo "$out" >"$P/logs/wake.log"
    kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$out"; }
    raw_row wake "wake: pp-proc --wait 0, commit -> line on its pipe" "$(kv n)" \
        "$(awk -v v="$(kv min_us)" 'BEGIN{printf "%.6f", v/1e6}')" \
        "$(awk -v v="$(kv median_us)" 'BEGIN{printf "%.6f", v/1e6}')" \
        "$(awk -v v="$(kv max_us)" 'BEGIN{printf "%.6f", v/1e6}')" \
        "p90 $(kv p90_us) us; commit median $(kv commit_median_us) us"
    verdict_value "wake: pp-proc --wait 0 after a commit (median)" "$(kv median_us)" "<" $WAKE_TARGET_US us \
        "$N_WAKE rounds: median $(kv median_us) us, p90 $(kv p90_us) us, min $(kv min_us) us, max $(kv max_us) us; the commit itself (sync=false): median $(kv commit_median_us) us, p90 $(kv commit_p90_us) us; late sleepers $(kv late); slept in $(kv wchan)"
    [ "$(kv late)" = 0 ] || NOTES+=("wake: $(kv late) of $N_WAKE pp-proc children were not asleep after $WAKE_SETTLE_MS ms (busy machine); they were waited for")
else
    warn "wake: bench_wake_latency failed: $(head -c 300 "$P/logs/wake.err")"
    ERRORS=$((ERRORS + 1))
    verdict_value "wake: pp-proc --wait 0 after a commit (median)" NA "<" $WAKE_TARGET_US us "not measured"
fi
rm -rf "$WK"

# ---------------------------------------------------------------------------- 10. GC
# The cached N_SEEK-log topic of run.sh (built here the same way if missing), copied;
# a proc g created with -o :(90%-1), then claimed+acked twice, so that its previous claim
# starts at 90%: pp-gc --min-prune-time 0 collects 90% of the topic. Every timed pp-gc runs
# on a fresh copy (hyperfine --prepare: cp -a, set up g, sync).
SEEK_DIR=$CACHE/seek-$N_SEEK
SEEK_ST=$SEEK_DIR/store
SEEK_MARK=$SEEK_DIR/complete
SEEK_KEY="n=$N_SEEK version=$PP_VERSION pp-commit=$(cat "$B/pp-commit" "$B/../libexec/pipeproc/pp-commit-json" | sha256sum | cut -c1-16)"
MID=$((N_SEEK / 2))
N90=$((N_SEEK / 10 * 9))
KEPT=$((N_SEEK - N90))
GLABEL=$((N_SEEK / 1000000))M

pp_length() { PIPEPROC_LOCATION=$1 "$B/pp-length" "$2" 2>>"$P/logs/pp-length.err" || echo "error"; }
seek_ok() {  # STORE TOPIC N MID
    local got
    [ "$(pp_length "$1" "$2")" = "$3" ] || return 1
    got=$(PIPEPROC_LOCATION=$1 "$B/pp-range" "$2" -s ":$4" -l 1 --format body 2>/dev/null) || return 1
    [ "$got" = "{\"i\":$4}" ]
}
SEEK_READY=1
if [ "${BENCH_REBUILD_CACHE:-0}" = 1 ] || [ ! -f "$SEEK_MARK" ] || [ "$(cat "$SEEK_MARK")" != "$SEEK_KEY" ] \
        || ! seek_ok "$SEEK_ST" seek "$N_SEEK" "$MID"; then
    log "gc: building the cached $N_SEEK-log seek topic (pp-commit --no-sync; as run.sh does)"
    rm -rf "$SEEK_DIR"; mkdir -p "$SEEK_DIR"
    if awk -v n="$N_SEEK" 'BEGIN { for (i = 0; i < n; i++) printf "{\"i\":%d}\n", i }' |
            PIPEPROC_LOCATION=$SEEK_ST "$B/pp-commit" -t seek --no-sync >/dev/null 2>"$P/logs/seek-build.err" \
            && sync && seek_ok "$SEEK_ST" seek "$N_SEEK" "$MID"; then
        echo "$SEEK_KEY" >"$SEEK_MARK"
        NOTES+=("gc: built the cached $N_SEEK-log seek topic in $SEEK_DIR")
    else
        warn "gc: could not build the $N_SEEK-log seek topic; see $P/logs/seek-build.err"
        ERRORS=$((ERRORS + 1)); SEEK_READY=0
    fi
else
    NOTES+=("gc: copies of run.sh's cached $N_SEEK-log seek topic ($SEEK_DIR, $(dsize "$SEEK_ST") bytes; the cache is not touched)")
fi

GC=$P/gc
COPY=$GC/store
mkdir -p "$GC"
cat >"$GC/prepare.sh" <<EOS
#!/bin/sh
# prepare.sh [DIR]: a fresh copy of the seek store in DIR (default $COPY) with proc g set up
set -e
d=\${1:-'$COPY'}
rm -rf "\$d"
cp -a '$SEEK_ST' "\$d"
export PIPEPROC_LOCATION="\$d"
'$B/pp-proc' seek -n g -o ':$((N90 - 1))' --format id >/dev/null
'$B/pp-ack' g >/dev/null
'$B/pp-proc' seek -n g --format id >/dev/null
'$B/pp-ack' g >/dev/null
sync
EOS
chmod +x "$GC/prepare.sh"

if [ "$SEEK_READY" = 1 ]; then
    log "gc: preparing two copies of the $N_SEEK-log topic"
    BEFORE=$GC/before   # stays uncollected: pp-length before GC
    if "$GC/prepare.sh" "$BEFORE" 2>"$P/logs/gc-prepare.err" && "$GC/prepare.sh" 2>>"$P/logs/gc-prepare.err"; then
        prev=$(PIPEPROC_LOCATION=$COPY "$B/pp-procs" inspect g 2>&1 | jq -r .previousClaimedRange 2>/dev/null) || true
        [[ "$prev" == *-$N90..*-$N90 ]] || warn "gc: proc g's previousClaimedRange is '$prev', expected sequence $N90"
        got=$(pp_length "$BEFORE" seek); [ "$got" = "$N_SEEK" ] || warn "gc: pp-length before GC = '$got', expected $N_SEEK"
        BYTES_BEFORE=$(dsize "$COPY")

        # One run to check what is collected (not timed by hyperfine; its wall time is a note).
        t0=$EPOCHREALTIME
        if gcj=$(PIPEPROC_LOCATION=$COPY "$B/pp-gc" --min-prune-time 0 --json 2>"$P/logs/gc-check.err"); then
            t1=$EPOCHREALTIME
            echo "$gcj" >"$P/logs/gc-check.json"
            coll=$(jq -r 'select(.topic=="seek") | .collected' <<<"$gcj")
            first=$(jq -r 'select(.topic=="seek") | .first' <<<"$gcj")
            freed=$(jq -r 'select(.topic=="seek") | .bytesFreed' <<<"$gcj")
            [ "$coll" = "$N90" ] && [[ "$first" == *-$N90 ]] \
                || warn "gc: pp-gc --json says collected '$coll', first '$first'; expected $N90 and sequence $N90"
            NOTES+=("gc: check run before the timed ones (pp-gc --json, $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", (b-a)*1000}') ms wall): collected $coll, first kept $first, bytesFreed $freed; store $BYTES_BEFORE -> $(dsize "$COPY") bytes (du)")
        else
            warn "gc: pp-gc --min-prune-time 0 --json failed: $(head -c 300 "$P/logs/gc-check.err")"
            ERRORS=$((ERRORS + 1))
        fi

        # The files the GC deleted (in the uncollected copy, not in the collected one): the
        # baseline removes the same files with rm from a fresh copy.
        mapfile -t DEAD < <(comm -23 <(cd "$BEFORE" && find . -type f | sort) <(cd "$COPY" && find . -type f | sort) | sed 's|^\./||')
        RMCMD="rm"
        for f in "${DEAD[@]}"; do RMCMD+=" $(q "$COPY/$f")"; done
        DEAD_BYTES=0
        for f in "${DEAD[@]}"; do DEAD_BYTES=$((DEAD_BYTES + $(stat -c %s "$BEFORE/$f"))); done
        if [ ${#DEAD[@]} -gt 0 ]; then
            NOTES+=("gc: the GC deleted ${#DEAD[@]} file(s), $DEAD_BYTES bytes; the rm baseline deletes the same files from a fresh copy")
        else
            NOTES+=("gc: the GC deleted no file (the collected logs share a segment with the kept ones), so there is no rm baseline")
        fi

        # pp-gc and rm take turns, each on a fresh copy (hyperfine --prepare: cp -a, proc g, sync);
        # rm first, so that the copy left at the end is the one pp-gc collected.
        log "gc: pp-gc --min-prune-time 0 vs rm of the same files, $GC_RUNS rounds"
        for ((i = 0; i < GC_RUNS; i++)); do
            if [ ${#DEAD[@]} -gt 0 ]; then
                hf_times gc-rm - 1 0 "$RMCMD" "$(q "$GC/prepare.sh")" || { warn "gc: rm baseline failed"; DEAD=(); }
            fi
            # pp-gc returns once the logs are gone and the files unlinked; a detached helper
            # closes the unlinked files, which is when the kernel frees their blocks and
            # cached pages. Timed too: pp-gc, then until no live pp-gc process is left (a finished
            # helper may stay a zombie until init reaps it).
            if [ ${#DEAD[@]} -gt 0 ]; then
                hf_times gc-released "$COPY" 1 0 \
                    "bash -c $(q "$(q "$B/pp-gc") --min-prune-time 0 >/dev/null; while pgrep -r D,R,S -x pp-gc >/dev/null; do :; done")" \
                    "$(q "$GC/prepare.sh")" || warn "gc: the pp-gc + release run failed"
            fi
            hf_times "gc-$GLABEL" "$COPY" 1 0 "$(q "$B/pp-gc") --min-prune-time 0" "$(q "$GC/prepare.sh")" \
                || { warn "gc: pp-gc failed; see $P/logs/gc-$GLABEL.log"; ERRORS=$((ERRORS + 1)); rm -f "$TIMES/gc-$GLABEL"; break; }
        done
        raw_times gc-released "gc: pp-gc, then until its helper has released the deleted files" - -
        raw_times "gc-$GLABEL" "gc: pp-gc --min-prune-time 0, $N90 of $N_SEEK logs go" - -
        raw_times gc-rm "gc: rm of the ${#DEAD[@]} files pp-gc deletes ($((DEAD_BYTES / 1000000)) MB)" - -
        got=$(pp_length "$COPY" seek); [ "$got" = "$KEPT" ] || warn "gc: pp-length after GC = '$got', expected $KEPT"
        got=$(PIPEPROC_LOCATION=$COPY "$B/pp-range" seek -l 1 --format body 2>&1) || true
        [ "$got" = "{\"i\":$N90}" ] || warn "gc: the first log after GC is '$got', expected {\"i\":$N90}"

        # pp-length on the uncollected and the collected copy, in alternating blocks.
        log "gc: pp-length before / after GC, $LEN_RUNS runs each in alternating blocks"
        for ((i = 0; i < LEN_RUNS / LEN_BLOCK; i++)); do
            hf_times gc-len-before "$BEFORE" "$LEN_BLOCK" 1 "$(q "$B/pp-length") seek" || { warn "gc: pp-length (before) failed"; break; }
            hf_times gc-len-after "$COPY" "$LEN_BLOCK" 1 "$(q "$B/pp-length") seek" || { warn "gc: pp-length (after) failed"; break; }
        done
        raw_times gc-len-before "gc: pp-length seek, $N_SEEK logs, before GC" - -
        raw_times gc-len-after "gc: pp-length seek, $KEPT logs, after GC" - -
        hf gc-noop "gc: pp-gc --min-prune-time 0 with nothing to collect" "$COPY" - -- \
            -N --warmup 2 --runs $LEN_RUNS "$(q "$B/pp-gc") --min-prune-time 0" || true
        rm -rf "$BEFORE"
    else
        warn "gc: preparing the copies failed: $(head -c 300 "$P/logs/gc-prepare.err")"
        ERRORS=$((ERRORS + 1))
    fi
fi
t=$(stat_of "gc-$GLABEL" median)
verdict_value "gc: pp-gc collecting 90% of $GLABEL logs (median wall)" \
    "$([ "$t" = NA ] && echo NA || awk -v t="$t" 'BEGIN{printf "%.1f", t*1000}')" "<" $GC_TARGET_MS ms \
    "$GC_RUNS runs, each on a fresh copy: best $(ms "$(stat_of "gc-$GLABEL" best)"), median $(ms "$t"), worst $(ms "$(stat_of "gc-$GLABEL" worst)"); nothing to collect: median $(ms "$(stat_of gc-noop median)")"
verdict_ratio "gc: pp-length after / before GC (median)" gc-len-after gc-len-before median "<=" 1.5
t=$(stat_of gc-noop median)
[ "$t" = NA ] || info_row "gc: pp-gc with nothing to collect (median)" "$(ms "$t")" \
    "the collected store; pp-length medians: before $(ms "$(stat_of gc-len-before median)"), after $(ms "$(stat_of gc-len-after median)")"
t=$(stat_of gc-released median)
[ "$t" = NA ] || info_row "gc: pp-gc until the space is back (median)" "$(ms "$t")" \
    "pp-gc returns when the logs are gone and the files unlinked; its detached helper's closes free the blocks and cached pages (includes pgrep polling)"
t=$(stat_of gc-rm median)
[ "$t" = NA ] || info_row "gc: rm of the deleted files (median)" "$(ms "$t")" \
    "the file system's share: pp-gc / rm medians = $(ratio "$(stat_of "gc-$GLABEL" median)" "$t"), best $(ms "$(stat_of gc-rm best)")"

# ---------------------------------------------------------------------------- report
NOTES+=("procs: in-process $N_CLAIM cycles; process loop $N_LOOP pairs; wake $N_WAKE rounds (settle $WAKE_SETTLE_MS ms); GC over $N_SEEK logs; load average $LOAD_START at the start of procs.sh, $(cut -d' ' -f1-3 /proc/loadavg) at its end")
NOTES+=("procs: Redis is a private redis-server on a unix socket only (--port 0), appendonly yes, appendfsync everysec, no RDB; stream s holds ids 1-0..N-0; group g created at 0; every redis-cli talks over the socket")
NOTES+=("procs: tools copied from $PP_BIN (sha256 $PP_SUMS)")

END_TS=$(date +%s)
rep() { printf '%*s' "$1" '' | tr ' ' -; }
report() {
    echo "# pipeproc benchmark — procs, $MODE mode"
    echo
    echo "date:        $(date -u '+%Y-%m-%d %H:%M:%S UTC')  (took $((END_TS - START_TS)) s)"
    echo "machine:     $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')), $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, kernel $(uname -r)"
    echo "load avg:    $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end (1/5/15 min)"
    echo "scratch:     $BENCH_DIR  (file system: $(stat -f -c %T "$BENCH_DIR"), device $(df -P "$BENCH_DIR" | awk 'NR==2{print $1}'))"
    echo "tools:       $PP_BIN  ($PP_VERSION; copied at the start; sha256 $PP_SUMS)"
    echo "baselines:   $(redis-server --version | cut -d' ' -f1-3), $(hyperfine --version)"
    echo
    echo "## Results (ratio vs target)"
    echo
    printf '| %-62s | %-14s | %-16s | %-10s |\n' measurement value target result
    printf '|%s|%s|%s|%s|\n' "$(rep 64)" "$(rep 16)" "$(rep 18)" "$(rep 12)"
    awk -F'\t' '{ printf "| %-62s | %-14s | %-16s | %-10s |\n", $1, $2, $3, $4 }' "$RES"
    echo
    echo "Details:"
    awk -F'\t' '{ printf "  - %s: %s\n", $1, $5 }' "$RES"
    echo
    echo "## Raw numbers (seconds; best = min over runs, spread = (worst-best)/best)"
    echo
    printf '| %-58s | %4s | %10s | %10s | %10s | %8s | %-30s |\n' measurement runs best median worst spread note
    printf '|%s|%s|%s|%s|%s|%s|%s|\n' "$(rep 60)" "$(rep 6)" "$(rep 12)" "$(rep 12)" "$(rep 12)" "$(rep 10)" "$(rep 32)"
    awk -F'\t' '{
        spread = ($4 > 0) ? ($6 - $4) / $4 * 100 : 0
        printf "| %-58s | %4d | %10.6f | %10.6f | %10.6f | %7.1f%% | %-30s |\n", $2, $3, $4, $5, $6, spread, $8
    }' "$RAW"
    echo
    echo "## Notes"
    echo
    local n
    for n in "${NOTES[@]}"; do echo "- $n"; done
    [ "$ERRORS" = 0 ] || echo "- $ERRORS measurement(s) could not be made; logs in $P/logs"
}

if [ "$EMBEDDED" = 1 ]; then
    [ -z "${PROCS_NOTES:-}" ] || printf '%s\n' "${NOTES[@]}" >>"$PROCS_NOTES"
    [ "$ERRORS" = 0 ] || exit 1
    exit 0
fi
REPORT=$BENCH_DIR/report-procs-$MODE.txt
report | tee "$REPORT"
log "report saved to $REPORT"
status=0
[ "$ERRORS" = 0 ] || status=1
if [ "$STRICT" = 1 ] && cut -f4 "$RES" | grep -qx 'FAIL'; then status=1; fi
exit $status
