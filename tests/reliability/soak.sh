#!/usr/bin/env bash
# soak.sh [--long] [--seed N] [--keep]: everything at once for a fixed time.
#
# 8 writers (batches of 1-5 logs {"w":W,"n":N} into topics t0..t3, two writers per topic,
# every third batch --no-sync), 4 `pp-range tX --follow` readers started before the
# topics exist, 3 procs P0..P2 (claim 1-10 logs of t0..t2, pp-ack --commit one {"src":ID}
# each into out0..out2), and a pp-gc loop, with small segments so that segments roll and
# the GC deletes them under the readers. Quick: 20 s; long: 30 min.
#
# Then: no tool reported an error; each reader printed every log of its topic exactly once,
# in order, with dense sequences, and every id a writer printed with its body; each writer's
# logs appear in the order it wrote them; every proc caught up (pp-wait), its acked count
# equals the logs of its output topic, which name the inputs in order; pp-check is clean;
# the readers' memory (VmRSS, RssAnon from /proc/PID/status) and open files
# (/proc/PID/fd) are flat between the first and the last quarter of the run, and after a
# last pp-gc no reader keeps a deleted segment file open.
# Environment: PP_SOAK_SECONDS overrides the duration.

source "$(dirname "$0")/lib.sh"
rel_parse_args "$@"

SECONDS_RUN=${PP_SOAK_SECONDS:-$(long_or 1800 20)}
SAMPLE_MS=$(long_or 5000 500)
MIN_PRUNE=$(long_or 30000 5000)
export PIPEPROC_LOCATION="$REL_WORK/store" PIPEPROC_SEGMENT_BYTES=8192
D="$REL_WORK/soak"
mkdir -p "$D"

writer() {
    local w=$1 t="t$(($1 % 4))" n=0 k=0 b i flags rc
    RANDOM=$((REL_SEED + w))
    while [[ ! -e $D/stop.writers ]]; do
        b=$((RANDOM % 5 + 1))
        flags=()
        ((k++ % 3 == 2)) && flags=(--no-sync)
        for ((i = 0; i < b; i++)); do printf '{"w":%d,"n":%d}\n' "$w" $((n + i)); done |
            pp-commit -t "$t" "${flags[@]}" >>"$D/w$w.ids" 2>>"$D/w$w.err"
        rc=$?
        ((rc == 0)) || { echo "pp-commit exited $rc" >>"$D/w$w.failed"; return 1; }
        n=$((n + b))
    done
}

proc() {
    local j=$1 rc ids id bodies
    RANDOM=$((REL_SEED + 100 + j))
    while [[ ! -e $D/stop.procs ]]; do
        rc=0
        pp-proc "t$j" -n "P$j" -c $((RANDOM % 10 + 1)) --format id -w 300 >"$D/p$j.claim" 2>"$D/p$j.claim.stderr" || rc=$?
        ((rc == 124)) && continue # nothing came within 300 ms: not an error
        cat "$D/p$j.claim.stderr" >>"$D/p$j.err"
        ((rc == 0)) || { echo "pp-proc exited $rc" >>"$D/p$j.failed"; return 1; }
        mapfile -t ids <"$D/p$j.claim"
        ((${#ids[@]})) || continue
        bodies=()
        for id in "${ids[@]}"; do bodies+=("{\"src\":\"$id\"}"); done
        pp-ack "P$j" --commit -t "out$j" "${bodies[@]}" >>"$D/p$j.acks" 2>>"$D/p$j.err" ||
            { echo "pp-ack --commit exited $?" >>"$D/p$j.failed"; return 1; }
    done
}

gc_loop() {
    while [[ ! -e $D/stop.gc ]]; do
        pp-gc --min-prune-time "$MIN_PRUNE" --json >>"$D/gc.out" 2>>"$D/gc.err" ||
            { echo "pp-gc exited $?" >>"$D/gc.failed"; return 1; }
        sleep 0.5
    done
}

# sampler PID...: every SAMPLE_MS: "ms pid VmRSS RssAnon fds" per reader.
sampler() {
    local p t0 now
    t0=$(date +%s%3N)
    while [[ ! -e $D/stop.sampler ]]; do
        now=$(($(date +%s%3N) - t0))
        for p in "$@"; do
            [[ -d /proc/$p ]] || continue
            echo "$now $p $(awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } END { print r + 0, a + 0 }' "/proc/$p/status" 2>/dev/null) $(ls "/proc/$p/fd" 2>/dev/null | wc -l)"
        done >>"$D/samples"
        sleep_ms "$SAMPLE_MS"
    done
}

# Output topics with a proc that never claims, so that the GC keeps them whole.
for j in 0 1 2; do
    pp-commit -q -t "out$j" '{"marker":true}' && pp-proc "out$j" -n "keep$j" -o '$>' >/dev/null ||
        rel_fail "setting up out$j"
done

rel_log "starting 4 readers, 8 writers, 3 procs and a GC loop (min prune ${MIN_PRUNE} ms) for $SECONDS_RUN s"
readers=()
for x in 0 1 2 3; do
    pp-range "t$x" --follow >"$D/r$x.out" 2>"$D/r$x.err" </dev/null &
    readers+=("$!")
    REL_PIDS+=("$!")
done
sampler "${readers[@]}" &
sampler_pid=$!
REL_PIDS+=("$sampler_pid")
writers=()
for w in 0 1 2 3 4 5 6 7; do
    writer "$w" &
    writers+=("$!")
    REL_PIDS+=("$!")
done
procs=()
for j in 0 1 2; do
    proc "$j" &
    procs+=("$!")
    REL_PIDS+=("$!")
done
gc_loop &
gc_pid=$!
REL_PIDS+=("$gc_pid")

end_at=$(($(date +%s) + SECONDS_RUN))
while (($(date +%s) < end_at)); do
    sleep 1
    if ((REL_LONG)) && (($(date +%s) % 60 == 0)); then
        rel_log "running: $(cat "$D"/w*.ids 2>/dev/null | wc -l) logs committed, readers at $(for x in 0 1 2 3; do wc -l <"$D/r$x.out"; done | tr '\n' ' ')"
    fi
done

touch "$D/stop.writers"
for p in "${writers[@]}"; do wait_pid_bounded 30 "$p" || rel_fail "writer $p did not stop"; done
committed=$(cat "$D"/w*.ids | wc -l)
rel_log "writers stopped: $committed logs committed; waiting for the procs"
rel_run "$REL_WORK/o" "$REL_WORK/e" pp-wait P0 P1 P2 --timeout 60000
((rc == 0)) && rel_pass || rel_fail "pp-wait P0 P1 P2 exited $rc: the procs did not catch up" "$(cat "$REL_WORK/e")"
rel_log "procs caught up; stopping the loops"
touch "$D/stop.procs"
for p in "${procs[@]}"; do wait_pid_bounded 30 "$p" || rel_fail "proc loop $p did not stop"; done
touch "$D/stop.gc"
wait_pid_bounded 30 "$gc_pid" || rel_fail "the GC loop did not stop"
touch "$D/stop.sampler"
wait_pid_bounded 30 "$sampler_pid"

# The readers catch up with the end of their topics (bounded), then are stopped (SIGTERM:
# a background job of a script ignores SIGINT). A topic's end is the number of ids its two
# writers printed (the GC may have collected all of t3 by now).
reader_done() { [[ $(tail -n 1 "$D/r$1.out" | sed -n 's/^{"id":"[0-9]*-\([0-9]*\)".*/\1/p') == "$2" ]]; }
for x in 0 1 2 3; do
    want=$(cat "$D/w$x.ids" "$D/w$((x + 4)).ids" | wc -l)
    wait_for 30 reader_done "$x" $((want - 1)) ||
        rel_fail "reader of t$x did not reach sequence $((want - 1)) in 30 s (at: $(tail -n 1 "$D/r$x.out" | cut -c1-60))"
done
# The GC gives the space of the segments it deletes back to the file system: no reader
# may keep a deleted segment open (checked after a last collection, bounded).
deleted_fds() {
    local p n=0
    for p in "${readers[@]}"; do
        n=$((n + $(ls -l "/proc/$p/fd" 2>/dev/null | grep -c ' (deleted)$')))
    done
    echo "$n"
}
no_deleted_fds() { (($(deleted_fds) == 0)); }
expect_rc 0 "the last pp-gc" pp-gc --min-prune-time 0
if wait_for 3 no_deleted_fds; then
    rel_pass
else
    held=$(for p in "${readers[@]}"; do
        for f in /proc/$p/fd/*; do
            [[ $(readlink "$f") == *' (deleted)' ]] && echo "$(stat -L -c %s "$f") $(readlink "$f")"
        done
    done)
    rel_fail "3 s after the GC deleted them, the readers still keep $(wc -l <<<"$held") deleted segment files open ($(awk '{ s += $1 } END { print s }' <<<"$held") bytes not given back), e.g. $(head -n 1 <<<"$held" | cut -d' ' -f2)" \
        "open files per reader: $(for p in "${readers[@]}"; do ls "/proc/$p/fd" | wc -l; done | tr '\n' ' ')"
fi
for p in "${readers[@]}"; do kill -TERM "$p" 2>/dev/null; done
for p in "${readers[@]}"; do
    wait_pid_bounded 10 "$p" || { rel_fail "reader $p ignored SIGTERM for 10 s"; kill -9 "$p"; }
done

rel_log "readers caught up and stopped; verifying"
expect_rc 0 "pp-check after the soak" pp-check
pyrel soak-verify --dir "$D" --writers 8 --procs 3 >"$REL_WORK/verify" 2>&1 || rel_fail "soak verdict" "$(grep -m 20 "^FAIL\|^    " "$REL_WORK/verify")"
grep -v '^FAIL' "$REL_WORK/verify" | while IFS= read -r l; do rel_log "$l"; done
stats=$(grep '^STATS' "$REL_WORK/verify" | cut -d' ' -f2-)
rel_summary "seconds_run=$SECONDS_RUN $stats"
rel_exit
