#!/usr/bin/env bash
# The workload crash.sh kills: run as its own process group (setsid), it never ends by
# itself. Usage: crash_workload.sh DIR K0 WRITERS SEED
#   writers: --atomic envelope batches, batch K = {"batch":K} in each of topics a, b, c
#            (every third one --no-sync); ids appended to DIR/wN.ids
#   proc:    pp-proc a -n P claims 1-3 logs (ids to DIR/claim.N), then
#            pp-ack P --commit -t out with one {"src":ID} per claimed log (DIR/ack.N)
#   gc:      pp-gc --min-prune-time $CRASH_MIN_PRUNE --json, appended to DIR/gc.out
# A tool that fails writes DIR/NAME.failed; the verifier reports it.
# PIPEPROC_LOCATION and PIPEPROC_SEGMENT_BYTES come from the environment.

d=$1 k0=$2 writers=$3 seed=$4
RANDOM=$seed

writer() {
    local w=$1 k=$((k0 + $1 * 100000)) flags n=0 rc
    RANDOM=$((seed + w + 1))
    while :; do
        flags=()
        ((n++ % 3 == 2)) && flags=(--no-sync)
        printf '{"topic":"a","body":{"batch":%d}}\n{"topic":"b","body":{"batch":%d}}\n{"topic":"c","body":{"batch":%d}}\n' \
            "$k" "$k" "$k" | pp-commit --atomic "${flags[@]}" >>"$d/w$w.ids" 2>>"$d/w$w.err"
        rc=$?
        ((rc == 0)) || { echo "pp-commit exited $rc: $(tail -n 2 "$d/w$w.err")" >"$d/w$w.failed"; exit 1; }
        k=$((k + 1))
    done
}

proc() {
    local n=0 rc ids bodies id
    RANDOM=$((seed + 100))
    while :; do
        rc=0
        pp-proc a -n P -c $((RANDOM % 3 + 1)) --format id -w 300 >"$d/claim.$n" 2>>"$d/p.err" || rc=$?
        if ((rc == 124)); then rm -f "$d/claim.$n"; continue; fi
        ((rc == 0)) || { echo "pp-proc exited $rc: $(tail -n 2 "$d/p.err")" >"$d/p.failed"; exit 1; }
        mapfile -t ids <"$d/claim.$n"
        if ((${#ids[@]} == 0)); then rm -f "$d/claim.$n"; continue; fi
        bodies=()
        for id in "${ids[@]}"; do bodies+=("{\"src\":\"$id\"}"); done
        rc=0
        pp-ack P --commit -t out "${bodies[@]}" >"$d/ack.$n" 2>>"$d/p.err" || rc=$?
        ((rc == 0)) || { echo "pp-ack --commit exited $rc: $(tail -n 2 "$d/p.err")" >"$d/p.failed"; exit 1; }
        n=$((n + 1))
    done
}

gc() {
    local rc
    RANDOM=$((seed + 200))
    while :; do
        rc=0
        pp-gc --min-prune-time "${CRASH_MIN_PRUNE:-200}" --json >>"$d/gc.out" 2>>"$d/gc.err" || rc=$?
        ((rc == 0)) || { echo "pp-gc exited $rc: $(tail -n 2 "$d/gc.err")" >"$d/gc.failed"; exit 1; }
        sleep "0.0$((RANDOM % 9 + 1))"
    done
}

for ((w = 0; w < writers; w++)); do writer "$w" & done
proc &
gc &
wait
