#!/usr/bin/env bash
# pipeproc benchmarks: the tools against baselines (cat, cat+sync, Redis Streams,
# redis-cli, fork+exec of /bin/true), all measured in the same run, on the same
# machine and file system. See bench/README.md for what each measurement means.
# Measurements 7-10 (procs, wake latency, GC) are bench/procs.sh, run from here.
#
#   bench/run.sh [--quick] [--strict] [--keep]
#
# env: PP_BIN       directory with pp-commit, pp-range, pp-length (default ../build/bin
#                   relative to this script)
#      BENCH_DIR    scratch directory (default /tmp/pipeproc-bench); keep it on the
#                   same file system as the checkout
#      REDIS_PORT   port of the private redis-server (default 6399)
#      BENCH_REBUILD_CACHE=1   rebuild the cached seek store
#
# The report goes to stdout and to $BENCH_DIR/report-{quick,full}.txt; progress and
# warnings go to stderr; hyperfine logs and JSON exports stay in $BENCH_DIR/run/.
# Exit status: 0 when every measurement ran (targets may still FAIL, see the table),
# 1 when a measurement could not be made (a tool failed), 1 also on any FAIL with
# --strict, 2 on usage errors.
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
        *) echo "run.sh: unknown argument: $arg" >&2; usage >&2; exit 2 ;;
    esac
done

log()  { printf '== %s %s\n' "$(date +%T)" "$*" >&2; }
warn() { printf '!! %s\n' "$*" >&2; NOTES+=("WARNING: $*"); }
die()  { printf 'run.sh: %s\n' "$*" >&2; exit 2; }

NOTES=()
ERRORS=0

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
PP_BIN=${PP_BIN:-$SCRIPT_DIR/../build/bin}
[ -d "$PP_BIN" ] || die "PP_BIN $PP_BIN does not exist (build first, or set PP_BIN)"
PP_BIN=$(cd "$PP_BIN" && pwd -P)
for t in pp-commit pp-range pp-length; do
    [ -x "$PP_BIN/$t" ] || die "$PP_BIN/$t missing or not executable"
done
for t in hyperfine redis-server redis-cli python3 jq awk; do
    command -v "$t" >/dev/null || die "$t is required (apt-get install hyperfine redis-server redis-tools jq)"
done
REDIS_CLI=$(command -v redis-cli)
REDIS_PORT=${REDIS_PORT:-6399}
GEN=$SCRIPT_DIR/gen.py

# The tools must use the store we give them, synchronously, and nothing else.
unset PIPEPROC_CONNECT PIPEPROC_SYNC PIPEPROC_NAMESPACE PIPEPROC_HOME PIPEPROC_LOCATION \
      PIPEPROC_TLS_KEY PIPEPROC_TLS_CERT PIPEPROC_TLS_CA PIPEPROC_CONNECT_TIMEOUT

if [ "$QUICK" = 1 ]; then
    MODE=quick
    N_SMALL=100000      # ~100 B lines
    N_BIG=5000          # ~4 KiB lines
    N_SEEK=1000000      # logs in the big seek topic
    SEEK_RUNS=30
    ONE_RUNS=50
else
    MODE=full
    N_SMALL=1000000
    N_BIG=50000
    N_SEEK=10000000
    SEEK_RUNS=50
    ONE_RUNS=200
fi
N_SEEK_SMALL=1000
RSS_REPEAT=20           # the small data set, 20 times through a pipe (2 GB full, 200 MB quick)
RUNS=3                  # best of 3 for the throughput measurements
ROUNDS=3                # ingest: every contender runs INGEST_RUNS times in each of ROUNDS rounds,
INGEST_RUNS=2           # in turn (best of 6)
RSS_LIMIT_KIB=32768

BENCH_DIR=${BENCH_DIR:-/tmp/pipeproc-bench}
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd -P)
DATA=$BENCH_DIR/data
CACHE=$BENCH_DIR/cache
RUN=$BENCH_DIR/run
rm -rf "$RUN"
mkdir -p "$RUN/hf" "$RUN/logs" "$DATA" "$CACHE"
# Work on a copy of the tools: a rebuild during the run must not swap binaries under us.
PP_SRC=$PP_BIN
mkdir -p "$RUN/bin"
for t in pp-commit pp-range pp-length; do cp -p "$PP_SRC/$t" "$RUN/bin/$t"; done
# pp-commit runs its helper from ../libexec for stdin (bin/pp-commit itself takes arguments).
[ -d "$PP_SRC/../libexec" ] || die "$PP_SRC/../libexec missing (pp-commit's helper)"
cp -a "$PP_SRC/../libexec" "$RUN/libexec"
# and of what bench/procs.sh needs (it checks them itself; it compiles a missing bench_*)
for t in pp-proc pp-ack pp-procs pp-gc bench_claim_ack bench_wake_latency bench_thread_start; do
    [ ! -x "$PP_SRC/$t" ] || cp -p "$PP_SRC/$t" "$RUN/bin/$t"
done
PP_BIN=$RUN/bin
PP_SUMS=$(cd "$PP_BIN" && for t in pp-commit ../libexec/pipeproc/pp-commit-json pp-range pp-length; do printf '%s:%s ' "${t##*/}" "$(sha256sum "$t" | cut -c1-10)"; done)
RAW=$RUN/raw.tsv           # key, label, runs, best, median, worst, stddev, note
RES=$RUN/results.tsv       # label, value, target, verdict, detail
: >"$RAW"; : >"$RES"

FSTYPE=$(stat -f -c %T "$BENCH_DIR")
if [ "$(stat -c %d "$BENCH_DIR")" != "$(stat -c %d "$SCRIPT_DIR")" ]; then
    warn "BENCH_DIR ($BENCH_DIR) is not on the file system of the checkout ($SCRIPT_DIR)"
fi

# ---------------------------------------------------------------------------- redis
R=$RUN/redis
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
    if [ "$KEEP" = 0 ]; then rm -rf "$RUN/ingest" "$RUN/rss" "$RUN/range" "$RUN/redis.dir" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if "$REDIS_CLI" -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    die "something already answers on port $REDIS_PORT; set REDIS_PORT to a free port"
fi

# A fresh, empty redis-server (also the hyperfine --prepare step for the XADD runs).
cat >"$RUN/redis-fresh.sh" <<EOF
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
redis-server --bind 127.0.0.1 --port $REDIS_PORT --unixsocket '$R.sock' --unixsocketperm 700 \\
    --dir '$R.dir' --appendonly yes --appendfsync everysec --save '' \\
    --daemonize yes --pidfile '$R.pid' --logfile '$R.log'
i=0
until '$REDIS_CLI' -s '$R.sock' ping >/dev/null 2>&1; do
    i=\$((i+1)); [ \$i -lt 500 ] || { echo "redis-server did not start, see $R.log" >&2; exit 1; }
    sleep 0.02
done
sync
EOF
chmod +x "$RUN/redis-fresh.sh"

# ---------------------------------------------------------------------------- helpers
q() { printf "'%s'" "${1//\'/\'\\\'\'}"; }      # quote for sh -c

# hf KEY LABEL LOCATION BYTES -- HYPERFINE-ARGS...
# Runs one hyperfine benchmark (one command) with PIPEPROC_LOCATION=LOCATION ("-": unset),
# and appends its statistics to $RAW. BYTES (or "-") gives a MB/s note.
hf() {
    local key=$1 label=$2 loc=$3 bytes=$4; shift 5
    local json=$RUN/hf/$key.json envv=()
    [ "$loc" = - ] || envv=(PIPEPROC_LOCATION="$loc")
    log "$label"
    if ! env "${envv[@]}" hyperfine --style basic --export-json "$json" -n "$key" "$@" \
            >"$RUN/logs/$key.log" 2>&1; then
        warn "$key: benchmark failed (a command exited non-zero); see $RUN/logs/$key.log:"
        tail -n 5 "$RUN/logs/$key.log" | sed 's/^/     /' >&2
        # hyperfine hides the command's stderr: run it once more to show why it failed
        local cmd=${*: -1} why
        why=$(env "${envv[@]}" sh -c "$cmd" 2>&1 >/dev/null </dev/null | head -n 2 | tr '\n' ' ') || true
        [ -z "$why" ] || NOTES+=("  $key stderr: $why")
        ERRORS=$((ERRORS + 1))
        return 1
    fi
    [ "${HF_ROUND:-}" ] || hf_row "$key" "$label" "$bytes" "$json"
}

# hf_row KEY LABEL BYTES JSON...: one row of $RAW from the times of every JSON export given.
hf_row() {
    local key=$1 label=$2 bytes=$3; shift 3
    local stats note=
    stats=$(jq -s -r '[.[].results[0].times[]] | sort | length as $n | (add / $n) as $m
        | [$n, .[0], (if $n % 2 == 1 then .[($n - 1) / 2] else (.[$n / 2 - 1] + .[$n / 2]) / 2 end), .[$n - 1],
           (if $n > 1 then ((map((. - $m) * (. - $m)) | add) / ($n - 1)) | sqrt else 0 end)] | @tsv' "$@")
    if [ "$bytes" != - ]; then
        note=$(awk -v b="$bytes" -v t="$(cut -f2 <<<"$stats")" 'BEGIN{printf "%.1f MB/s", b/t/1e6}')
    fi
    printf '%s\t%s\t%s\t%s\n' "$key" "$label" "$stats" "$note" >>"$RAW"
}

stat_of() {  # KEY best|median -> seconds, or NA
    local col
    case $2 in best) col=4 ;; median) col=5 ;; *) col=4 ;; esac
    awk -F'\t' -v k="$1" -v c="$col" '$1==k{print $c; f=1} END{if(!f) print "NA"}' "$RAW"
}

# verdict_ratio LABEL NUM_KEY DEN_KEY STAT OP TARGET
# ratio = NUM/DEN of the given statistic; PASS when "ratio OP TARGET".
verdict_ratio() {
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

pp_length() {  # STORE TOPIC
    PIPEPROC_LOCATION=$1 "$PP_BIN/pp-length" "$2" 2>>"$RUN/logs/pp-length.err" || echo "error"
}

check_length() {  # STORE TOPIC EXPECTED WHAT
    local got
    got=$(pp_length "$1" "$2")
    if [ "$got" != "$3" ]; then
        warn "$4: pp-length $2 = '$got', expected $3"
        return 1
    fi
}

# The files that hold TOPIC in STORE, for the cat baseline: topics/T/*.log as the
# contract's layout suggests, else every file under topics/T, else the whole store.
topic_files() {
    local d=$1/topics/$2
    if compgen -G "$d/*.log" >/dev/null; then
        printf '%s\n' "$d"/*.log
    elif [ -d "$d" ]; then
        find "$d" -type f | sort
    else
        find "$1" -type f | sort
    fi
}

# peak RSS: maxrss OUTFILE CMD... writes "maxrss_KiB wall_s anon_peak_KiB file_peak_KiB"
# (bench/maxrss.py: ru_maxrss as GNU time's %M, plus a sampled RssAnon/RssFile breakdown)
RSS_TOOL="bench/maxrss.py (getrusage ru_maxrss = GNU time %M; RssAnon/RssFile sampled from /proc every 5 ms)"
maxrss() { python3 "$SCRIPT_DIR/maxrss.py" "$@"; }

fsize() { stat -c %s "$1"; }
dsize() { du -sb "$1" | cut -f1; }

# ---------------------------------------------------------------------------- data
# Generated once per size and generator version, then reused between runs.
GEN_SUM=$(sha256sum "$GEN" | cut -c1-12)
gen_file() {  # KIND N -> path (JSON lines)
    local f=$DATA/$1-$2.jsonl
    if [ ! -f "$f.ok" ] || [ "$(cat "$f.ok")" != "$GEN_SUM" ]; then
        log "generating $1 data set: $2 lines"
        python3 "$GEN" "$1" "$2" >"$f.tmp" || die "gen.py $1 $2 failed"
        mv "$f.tmp" "$f"; echo "$GEN_SUM" >"$f.ok"
    fi
    echo "$f"
}
gen_resp() {  # JSONL KEY -> path (RESP XADD commands)
    local f=$1.$2.resp
    if [ ! -f "$f.ok" ] || [ "$(cat "$f.ok")" != "$GEN_SUM" ]; then
        log "generating RESP for $(basename "$1")"
        python3 "$GEN" resp "$2" <"$1" >"$f.tmp" || die "gen.py resp failed"
        mv "$f.tmp" "$f"; echo "$GEN_SUM" >"$f.ok"
    fi
    echo "$f"
}

SMALL=$(gen_file small "$N_SMALL")
BIG=$(gen_file big "$N_BIG")
SMALL_RESP=$(gen_resp "$SMALL" T)
BIG_RESP=$(gen_resp "$BIG" T)

PP_VERSION=$("$PP_BIN/pp-commit" --version 2>/dev/null | head -n1) || PP_VERSION="unknown (--version failed)"
[ -n "$PP_VERSION" ] || PP_VERSION=unknown
START_TS=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOAD_START%% *}" -v n="$(nproc)" 'BEGIN{exit !(l > n / 4)}'; then
    warn "the machine is busy at the start (load average $LOAD_START on $(nproc) cores): expect noisy numbers"
fi

# ---------------------------------------------------------------------------- 2. ingest
"$RUN/redis-fresh.sh"

# The contenders of one ingest data set run in ROUNDS rounds, INGEST_RUNS times in each,
# so that a slow spell of this shared machine does not fall on one contender only; the
# row of each holds all its runs.
ingest() {  # NAME FILE RESP LINES
    local name=$1 round k
    cat "$2" "$3" >/dev/null   # page cache warm for every contender
    for ((round = 1; round <= ROUNDS; round++)); do
        HF_ROUND=$round ingest_round "$@"
    done
    for k in pp pp-nosync cat-sync cat redis; do
        compgen -G "$RUN/hf/ingest-$name-$k@*.json" >/dev/null || continue
        hf_row "ingest-$name-$k" "$(cat "$RUN/hf/ingest-$name-$k.label")" "$(fsize "$2")" \
            "$RUN"/hf/ingest-"$name-$k"@*.json
    done

    verdict_ratio "ingest $name: pp durable vs cat+sync (speed ratio)" \
        "ingest-$name-cat-sync" "ingest-$name-pp" best ">=" 0.40
    verdict_ratio "ingest $name: pp --no-sync vs cat (speed ratio)" \
        "ingest-$name-cat" "ingest-$name-pp-nosync" best ">=" 0.40
    verdict_ratio "ingest $name: pp durable vs Redis XADD (x faster)" \
        "ingest-$name-redis" "ingest-$name-pp" best ">=" 5
    verdict_ratio "ingest $name: pp --no-sync vs Redis XADD (x faster)" \
        "ingest-$name-redis" "ingest-$name-pp-nosync" best ">=" 5
    # the last row is extra information; mark it so
    sed -i '$ s/\t\(PASS\|FAIL\)\t/\tinfo(\1)\t/' "$RES"
    # What any durable writer can reach against Redis (which does not fsync before it
    # answers): the file system's own cat && sync of the same bytes. Information too.
    verdict_ratio "ingest $name: cat+sync vs Redis XADD (x, a durable writer's ceiling)" \
        "ingest-$name-redis" "ingest-$name-cat-sync" best ">=" 5
    sed -i '$ s/\t\(PASS\|FAIL\)\t/\tinfo(\1)\t/' "$RES"
}

# ingest_round NAME FILE RESP LINES: each contender RUNS times (round HF_ROUND).
ingest_round() {
    local name=$1 data=$2 resp=$3 lines=$4 bytes st=$RUN/ingest out=$RUN/baseline.out
    bytes=$(fsize "$data")
    local prep_st prep_out
    prep_st="rm -rf $(q "$st"); sync"
    prep_out="rm -f $(q "$out"); sync"

    rhf "ingest-$name-pp" "ingest $name: pp-commit (durable)" "$st" "$bytes" -- \
        --runs $INGEST_RUNS --prepare "$prep_st" \
        "$(q "$PP_BIN/pp-commit") -t T < $(q "$data") > /dev/null" \
        && check_length "$st" T "$lines" "ingest $name pp-commit" || true
    [ -d "$st" ] && INGEST_STORE_BYTES[$name]=$(dsize "$st")

    rhf "ingest-$name-pp-nosync" "ingest $name: pp-commit --no-sync" "$st" "$bytes" -- \
        --runs $INGEST_RUNS --prepare "$prep_st" \
        "$(q "$PP_BIN/pp-commit") -t T --no-sync < $(q "$data") > /dev/null" \
        && check_length "$st" T "$lines" "ingest $name pp-commit --no-sync" || true

    rhf "ingest-$name-cat-sync" "ingest $name: cat > file && sync file" - "$bytes" -- \
        --runs $INGEST_RUNS --prepare "$prep_out" \
        "cat $(q "$data") > $(q "$out") && sync $(q "$out")" || true

    rhf "ingest-$name-cat" "ingest $name: cat > file" - "$bytes" -- \
        --runs $INGEST_RUNS --prepare "$prep_out" \
        "cat $(q "$data") > $(q "$out")" || true
    rm -f "$out"

    if rhf "ingest-$name-redis" "ingest $name: redis-cli --pipe (XADD, AOF everysec)" - "$bytes" -- \
        --runs $INGEST_RUNS --prepare "$(q "$RUN/redis-fresh.sh")" \
        "$(q "$REDIS_CLI") -s $(q "$R.sock") --pipe < $(q "$resp") > /dev/null"; then
        local xlen
        xlen=$("$REDIS_CLI" -s "$R.sock" XLEN T 2>&1) || true
        [ "$xlen" = "$lines" ] || warn "ingest $name redis: XLEN T = '$xlen', expected $lines"
    fi
}

# rhf KEY LABEL ...: hf for round HF_ROUND of KEY (its row comes later, from every round).
rhf() {
    local key=$1 label=$2; shift 2
    printf '%s\n' "$label" >"$RUN/hf/$key.label"
    hf "$key@$HF_ROUND" "$label (round $HF_ROUND)" "$@"
}
declare -A INGEST_STORE_BYTES=()
ingest small "$SMALL" "$SMALL_RESP" "$N_SMALL"
ingest big "$BIG" "$BIG_RESP" "$N_BIG"
for k in small big; do
    in=$SMALL; [ $k = big ] && in=$BIG
    if [ -n "${INGEST_STORE_BYTES[$k]:-}" ]; then
        NOTES+=("store size after ingesting the $k data set: ${INGEST_STORE_BYTES[$k]} bytes for $(fsize "$in") bytes of input ($(awk -v a="${INGEST_STORE_BYTES[$k]}" -v b="$(fsize "$in")" 'BEGIN{printf "%.2fx", a/b}'))")
    fi
done
rm -rf "$RUN/ingest"
redis_stop

# ---------------------------------------------------------------------------- 3. range
RST=$RUN/range
log "range: building a $N_SMALL-log topic (pp-commit --no-sync)"
if PIPEPROC_LOCATION=$RST "$PP_BIN/pp-commit" -t T --no-sync <"$SMALL" >/dev/null 2>"$RUN/logs/range-build.err" \
        && check_length "$RST" T "$N_SMALL" "range store"; then
    sync
    mapfile -t TFILES < <(topic_files "$RST" T)
    TBYTES=0
    for f in "${TFILES[@]}"; do TBYTES=$((TBYTES + $(fsize "$f"))); done
    CATCMD="cat"
    for f in "${TFILES[@]}"; do CATCMD+=" $(q "$f")"; done
    NOTES+=("range: cat baseline reads ${#TFILES[@]} file(s), $TBYTES bytes (${TFILES[*]:0:3}$([ ${#TFILES[@]} -le 3 ] || echo " ..."))")
    # correctness: bodies must come back exactly as given
    if PIPEPROC_LOCATION=$RST "$PP_BIN/pp-range" T --format body 2>"$RUN/logs/range-check.err" | cmp -s - "$SMALL"; then
        NOTES+=("range: pp-range --format body reproduces the input byte for byte")
    else
        warn "range: pp-range T --format body does not reproduce the input (see cmp)"
    fi

    # In turns, as the ingest contenders.
    for ((round = 1; round <= ROUNDS; round++)); do
        HF_ROUND=$round rhf range-cat "range: cat topic files" - "$TBYTES" -- \
            --warmup 1 --runs $RUNS "$CATCMD > /dev/null" || true
        HF_ROUND=$round rhf range-pp "range: pp-range T" "$RST" "$(fsize "$SMALL")" -- \
            --warmup 1 --runs $RUNS "$(q "$PP_BIN/pp-range") T > /dev/null" || true
        HF_ROUND=$round rhf range-pp-body "range: pp-range T --format body" "$RST" "$(fsize "$SMALL")" -- \
            --warmup 1 --runs $RUNS "$(q "$PP_BIN/pp-range") T --format body > /dev/null" || true
    done
    for k in range-cat range-pp range-pp-body; do
        compgen -G "$RUN/hf/$k@*.json" >/dev/null || continue
        b=$(fsize "$SMALL"); [ $k = range-cat ] && b=$TBYTES
        hf_row $k "$(cat "$RUN/hf/$k.label")" "$b" "$RUN"/hf/$k@*.json
    done
else
    warn "range: could not build the store; see $RUN/logs/range-build.err"
    NOTES+=("  stderr: $(head -n 2 "$RUN/logs/range-build.err" | tr '\n' ' ')")
    ERRORS=$((ERRORS + 1))
fi
verdict_ratio "range: pp-range vs cat (throughput ratio)" range-cat range-pp best ">=" 0.5
verdict_ratio "range: pp-range --format body vs cat" range-cat range-pp-body best ">=" 0.5
rm -rf "$RST"

# ---------------------------------------------------------------------------- 4. seek
SEEK_DIR=$CACHE/seek-$N_SEEK
SEEK_ST=$SEEK_DIR/store
SEEK_MARK=$SEEK_DIR/complete
SEEK_KEY="n=$N_SEEK version=$PP_VERSION pp-commit=$(cat "$PP_BIN/pp-commit" "$PP_BIN/../libexec/pipeproc/pp-commit-json" | sha256sum | cut -c1-16)"
MID=$((N_SEEK / 2))
MID_SMALL=$((N_SEEK_SMALL / 2))

seek_ok() {  # STORE TOPIC N MID
    local got
    [ "$(pp_length "$1" "$2")" = "$3" ] || return 1
    got=$(PIPEPROC_LOCATION=$1 "$PP_BIN/pp-range" "$2" -s ":$4" -l 1 --format body 2>/dev/null) || return 1
    [ "$got" = "{\"i\":$4}" ]
}
build_seek() {  # STORE TOPIC N
    awk -v n="$3" 'BEGIN { for (i = 0; i < n; i++) printf "{\"i\":%d}\n", i }' |
        PIPEPROC_LOCATION=$1 "$PP_BIN/pp-commit" -t "$2" --no-sync >/dev/null
}

if [ "${BENCH_REBUILD_CACHE:-0}" = 1 ] || [ ! -f "$SEEK_MARK" ] || [ "$(cat "$SEEK_MARK")" != "$SEEK_KEY" ] \
        || ! seek_ok "$SEEK_ST" seek "$N_SEEK" "$MID"; then
    log "seek: building the cached $N_SEEK-log topic (pp-commit --no-sync; once per tool version)"
    rm -rf "$SEEK_DIR"; mkdir -p "$SEEK_DIR"
    t0=$(date +%s.%N)
    if build_seek "$SEEK_ST" seek "$N_SEEK" 2>"$RUN/logs/seek-build.err"; then
        t1=$(date +%s.%N); sync
        if seek_ok "$SEEK_ST" seek "$N_SEEK" "$MID"; then
            echo "$SEEK_KEY" >"$SEEK_MARK"
            NOTES+=("seek: built the $N_SEEK-log topic in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f s (%.0f logs/s)", b-a, '"$N_SEEK"'/(b-a)}') with pp-commit --no-sync from one pipe")
        else
            warn "seek: the built topic does not hold what was committed (length or :$MID lookup wrong)"
            ERRORS=$((ERRORS + 1))
        fi
    else
        warn "seek: building the store failed; see $RUN/logs/seek-build.err"
        ERRORS=$((ERRORS + 1))
    fi
else
    NOTES+=("seek: reused the cached $N_SEEK-log topic in $SEEK_DIR ($(dsize "$SEEK_ST") bytes)")
fi
SEEK1K=$RUN/seek1k
build_seek "$SEEK1K" seek "$N_SEEK_SMALL" 2>"$RUN/logs/seek1k-build.err" || true
sync
seek_ok "$SEEK1K" seek "$N_SEEK_SMALL" "$MID_SMALL" || warn "seek: the $N_SEEK_SMALL-log topic is wrong"

BIGLABEL=$((N_SEEK / 1000000))M
if [ -f "$SEEK_MARK" ]; then
    hf "seek-$BIGLABEL" "seek: pp-range -s :$MID -l 1 in $N_SEEK logs" "$SEEK_ST" - -- \
        -N --warmup 3 --runs "$SEEK_RUNS" "$(q "$PP_BIN/pp-range") seek -s :$MID -l 1" || true
fi
hf seek-1k "seek: pp-range -s :$MID_SMALL -l 1 in $N_SEEK_SMALL logs" "$SEEK1K" - -- \
    -N --warmup 3 --runs "$SEEK_RUNS" "$(q "$PP_BIN/pp-range") seek -s :$MID_SMALL -l 1" || true
verdict_ratio "seek: median ${BIGLABEL} / median 1k (-s :N -l 1)" "seek-$BIGLABEL" seek-1k median "<=" 2

# ---------------------------------------------------------------------------- 5. one commit
"$RUN/redis-fresh.sh"
ONE=$RUN/one
PIPEPROC_LOCATION=$ONE "$PP_BIN/pp-commit" -t one '{}' >/dev/null 2>"$RUN/logs/one-init.err" \
    || warn "one: the first pp-commit -t one '{}' failed"
"$REDIS_CLI" -p "$REDIS_PORT" XADD s '*' f v >/dev/null
hf one-true "one process: /bin/true (fork+exec floor)" - - -- \
    -N --warmup 5 --runs "$ONE_RUNS" /bin/true || true
hf one-pp "one process: pp-commit -t one '{}' (durable)" "$ONE" - -- \
    -N --warmup 5 --runs "$ONE_RUNS" "$(q "$PP_BIN/pp-commit") -t one '{}'" || true
hf one-pp-nosync "one process: pp-commit -t one --no-sync '{}'" "$ONE" - -- \
    -N --warmup 5 --runs "$ONE_RUNS" "$(q "$PP_BIN/pp-commit") -t one --no-sync '{}'" || true
hf one-redis "one process: redis-cli -p $REDIS_PORT XADD s '*' f v" - - -- \
    -N --warmup 5 --runs "$ONE_RUNS" "$(q "$REDIS_CLI") -p $REDIS_PORT XADD s '*' f v" || true
verdict_ratio "one commit: pp-commit durable / redis-cli XADD (median)" one-pp one-redis median "<=" 0.5
verdict_ratio "one commit: pp-commit --no-sync / redis-cli XADD (median)" one-pp-nosync one-redis median "<=" 0.5
sed -i '$ s/\t\(PASS\|FAIL\)\t/\tinfo(\1)\t/' "$RES"
n=$(stat_of one-true median)
[ "$n" = NA ] || info_row "floor: fork+exec /bin/true (median)" "$(awk -v t="$n" 'BEGIN{printf "%.3f ms", t*1000}')" \
    "$(awk -v p="$(stat_of one-pp median)" -v s="$(stat_of one-pp-nosync median)" -v r="$(stat_of one-redis median)" '
        function ms(x) { return (x == "NA") ? "n/a" : sprintf("%.3f ms", x * 1000) }
        BEGIN { printf "medians: pp-commit %s, pp-commit --no-sync %s, redis-cli %s", ms(p), ms(s), ms(r) }')"
redis_stop
# How soon a helper thread first runs while its starter is busy (pp-range's export and
# pp-commit's reading thread start theirs with pptool::Thread; see docs/design.md).
if [ -x "$PP_BIN/bench_thread_start" ]; then
    if ts=$("$PP_BIN/bench_thread_start" 20 2>"$RUN/logs/thread-start.err"); then
        kv() { printf '%s\n' "$ts" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
        info_row "thread start while the starter is busy: std::thread / pptool::Thread (median)" \
            "$(kv std_median_us) / $(kv pp_median_us) us" "max $(kv std_max_us) / $(kv pp_max_us) us over $(kv n) starts, $(kv cpus) CPUs"
    else
        warn "bench_thread_start failed: $(head -c 300 "$RUN/logs/thread-start.err")"
    fi
fi

# ---------------------------------------------------------------------------- 6. peak RSS
RSS_ST=$RUN/rss
RSS_BYTES=$(( $(fsize "$SMALL") * RSS_REPEAT ))
RSS_MB=$(awk -v b="$RSS_BYTES" 'BEGIN{printf "%.0f", b/1e6}')
NOTES+=("peak RSS measured with $RSS_TOOL over $RSS_MB MB of input ($RSS_REPEAT x the $N_SMALL-line data set through a pipe)$( [ "$QUICK" = 0 ] || echo "; --quick: 200 MB instead of 2 GB")")
log "rss: pp-commit -t rss --no-sync over $RSS_MB MB through a pipe"
rss_commit=
if ( export PIPEPROC_LOCATION=$RSS_ST
     for ((i = 0; i < RSS_REPEAT; i++)); do cat "$SMALL"; done |
         maxrss "$RUN/rss-commit.txt" "$PP_BIN/pp-commit" -t rss --no-sync >/dev/null 2>"$RUN/logs/rss-commit.err" ); then
    read -r rss_commit rss_commit_s rss_commit_anon rss_commit_file <"$RUN/rss-commit.txt"
    check_length "$RSS_ST" rss $((N_SMALL * RSS_REPEAT)) "rss store" || true
    printf '%s\t%s\t1\t%s\t%s\t%s\t0\t%s\n' rss-commit "rss: pp-commit --no-sync, $RSS_MB MB piped (wall)" \
        "$rss_commit_s" "$rss_commit_s" "$rss_commit_s" \
        "$(awk -v b="$RSS_BYTES" -v t="$rss_commit_s" 'BEGIN{ if (t > 0) printf "%.1f MB/s", b/t/1e6 }'), peak $rss_commit KiB (anon $rss_commit_anon, file $rss_commit_file)" >>"$RAW"
else
    warn "rss: pp-commit failed; see $RUN/logs/rss-commit.err"; ERRORS=$((ERRORS + 1))
    NOTES+=("  stderr: $(head -n 2 "$RUN/logs/rss-commit.err" | tr '\n' ' ')")
fi
verdict_value "peak RSS: pp-commit -t T, $RSS_MB MB piped" "${rss_commit:-NA}" "<" $RSS_LIMIT_KIB KiB "1 run, --no-sync; sampled peaks: RssAnon ${rss_commit_anon:-?} KiB, RssFile ${rss_commit_file:-?} KiB"

rss_range=
if [ -n "$rss_commit" ]; then
    sync
    log "rss: pp-range rss > /dev/null"
    if PIPEPROC_LOCATION=$RSS_ST maxrss "$RUN/rss-range.txt" "$PP_BIN/pp-range" rss >/dev/null 2>"$RUN/logs/rss-range.err"; then
        read -r rss_range rss_range_s rss_range_anon rss_range_file <"$RUN/rss-range.txt"
        printf '%s\t%s\t1\t%s\t%s\t%s\t0\t%s\n' rss-range "rss: pp-range over $((N_SMALL * RSS_REPEAT)) logs (wall)" \
            "$rss_range_s" "$rss_range_s" "$rss_range_s" \
            "$(awk -v b="$RSS_BYTES" -v t="$rss_range_s" 'BEGIN{ if (t > 0) printf "%.1f MB/s", b/t/1e6 }'), peak $rss_range KiB (anon $rss_range_anon, file $rss_range_file)" >>"$RAW"
    else
        warn "rss: pp-range failed; see $RUN/logs/rss-range.err"; ERRORS=$((ERRORS + 1))
        NOTES+=("  stderr: $(head -n 2 "$RUN/logs/rss-range.err" | tr '\n' ' ')")
    fi
    NOTES+=("rss store: $(dsize "$RSS_ST") bytes on disk for $RSS_BYTES bytes of input")
fi
verdict_value "peak RSS: pp-range T > /dev/null over it" "${rss_range:-NA}" "<" $RSS_LIMIT_KIB KiB "1 run; sampled peaks: RssAnon ${rss_range_anon:-?} KiB, RssFile ${rss_range_file:-?} KiB"
[ "$KEEP" = 1 ] || rm -rf "$RSS_ST"

# ---------------------------------------------------------------------------- 7-10. procs, GC
# bench/procs.sh: claim+ack in process and as processes, wake latency, GC. It appends its
# rows to our tables and its notes to a file; its scratch files are in $BENCH_DIR/procs.
log "procs: bench/procs.sh"
: >"$RUN/procs-notes.txt"
procs_args=()
[ "$QUICK" = 0 ] || procs_args+=(--quick)
[ "$KEEP" = 0 ] || procs_args+=(--keep)
if ! PP_BIN=$PP_BIN PP_BUILD=$(dirname "$PP_SRC") BENCH_DIR=$BENCH_DIR \
        PROCS_RES=$RES PROCS_RAW=$RAW PROCS_NOTES=$RUN/procs-notes.txt \
        "$SCRIPT_DIR/procs.sh" "${procs_args[@]}"; then
    warn "procs: bench/procs.sh could not make every measurement; see $BENCH_DIR/procs/logs"
    ERRORS=$((ERRORS + 1))
fi
mapfile -t -O "${#NOTES[@]}" NOTES <"$RUN/procs-notes.txt"

# ---------------------------------------------------------------------------- report
END_TS=$(date +%s)
report() {
    echo "# pipeproc benchmark — $MODE mode"
    echo
    echo "date:        $(date -u '+%Y-%m-%d %H:%M:%S UTC')  (took $((END_TS - START_TS)) s, plus data generation)"
    echo "machine:     $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')), $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, kernel $(uname -r)"
    echo "load avg:    $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end (1/5/15 min)"
    echo "scratch:     $BENCH_DIR  (file system: $FSTYPE, device $(df -P "$BENCH_DIR" | awk 'NR==2{print $1}'))"
    echo "tools:       $PP_SRC  ($PP_VERSION; copied at the start; sha256 $PP_SUMS)"
    echo "baselines:   $(cat --version | head -n1), $(redis-server --version | cut -d' ' -f1-3), $(hyperfine --version)"
    echo "data:        small: $N_SMALL lines, $(fsize "$SMALL") bytes; big: $N_BIG lines, $(fsize "$BIG") bytes; seek: $N_SEEK and $N_SEEK_SMALL logs"
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
    echo "- ingest runs start from an empty store/file (hyperfine --prepare: rm + sync; redis: a fresh server per run)."
    echo "- Redis: private redis-server 127.0.0.1:$REDIS_PORT + unix socket, appendonly yes, appendfsync everysec, no RDB;"
    echo "  records sent as 'XADD T * b <line>' through redis-cli --pipe over the unix socket (RESP prepared beforehand)."
    echo "- page cache is warm for every contender (input files are read once before timing); caches are not dropped."
    echo "- seek and one-process runs use hyperfine -N (no shell); the ratio there uses medians."
    local n
    for n in "${NOTES[@]}"; do echo "- $n"; done
    [ "$ERRORS" = 0 ] || echo "- $ERRORS measurement(s) could not be made; logs in $RUN/logs"
}
rep() { printf '%*s' "$1" '' | tr ' ' -; }

REPORT=$BENCH_DIR/report-$MODE.txt
report | tee "$REPORT"
log "report saved to $REPORT"

status=0
[ "$ERRORS" = 0 ] || status=1
if [ "$STRICT" = 1 ] && cut -f4 "$RES" | grep -qx 'FAIL'; then status=1; fi
exit $status
