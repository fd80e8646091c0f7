#!/usr/bin/env bash
# crash.sh [--long] [--seed N] [--keep]: kill -9 a mixed workload at random moments, then
# cut segment files short at every byte.
#
# Part 1: crash_workload.sh (2 writers of multi-topic --atomic batches to a, b, c; a proc P
# claiming from a and acking with pp-ack --commit into out; a pp-gc loop; small segments
# through PIPEPROC_SEGMENT_BYTES) runs as one process group and is SIGKILLed as a whole at
# a random moment. After each kill (pprel.py crash-verify): pp-check exits 0; a, b and c
# end at the same sequence and hold the same id and body at every sequence they still
# hold (no batch partly visible); sequences are dense; every id any tool printed before
# the kill is readable unless the GC collected it (the GC start is tracked through
# pp-range/pp-length; b and out have a proc that never claims, so the GC keeps them whole);
# P's acked count equals the length of out, and out log j names input j; the next commit
# gets through at once and continues the sequences. The store lives on across kills (a
# fresh one every PP_CRASH_KILLS_PER_STORE kills).
#
# Part 2 (pprel.py truncate-sweep): the last segment of a topic cut at every byte offset
# of its last 3 records, on a copy of the store with the control block deleted, for
# commits made with and without --no-sync: the store reopens with the longest prefix of
# intact commits (atomic across topics) and pp-check is clean, after --repair if it
# reports a torn tail; synced commits whose bytes are gone are corruption: pp-check
# exits 74 and --repair --cut must bring the store back to the intact prefix. New commits
# continue the sequences.
#
# Quick: 50 kills, every offset of 3 layouts. Long: 2000 kills, more layouts/segment sizes.
# Environment: PP_CRASH_KILLS, PP_CRASH_KILLS_PER_STORE, PP_BIN.

source "$(dirname "$0")/lib.sh"
rel_parse_args "$@"

KILLS=${PP_CRASH_KILLS:-$(long_or 2000 50)}
PER_STORE=${PP_CRASH_KILLS_PER_STORE:-100}
WRITERS=2
SEG_BYTES=1024
export CRASH_MIN_PRUNE=200

# new_store N: a fresh store with topics a, b, c, out, proc P on a (never disabled,
# claims come back after 500 ms) and procs that keep b and out whole.
new_store() {
    export PIPEPROC_LOCATION="$REL_WORK/store.$1" PIPEPROC_SEGMENT_BYTES=$SEG_BYTES
    STATE="$REL_WORK/state.$1.json"
    local ids
    ids=$(printf '{"topic":"a","body":{"batch":0}}\n{"topic":"b","body":{"batch":0}}\n{"topic":"c","body":{"batch":0}}\n' |
        pp-commit --atomic) || { rel_fail "setup commit failed"; return 1; }
    pp-proc a -n P -c 1 --max-reclaims -1 --reclaim-timeout 500 --format id >"$REL_WORK/setup.claim" &&
        pp-ack P --commit -t out "{\"src\":\"$(head -n 1 "$REL_WORK/setup.claim")\"}" >/dev/null &&
        pp-proc b -n keep_b -o '$>' >/dev/null &&
        pp-proc out -n keep_out -o '$>' >/dev/null || { rel_fail "setup of the procs failed"; return 1; }
    cat >"$STATE" <<EOF
{"end": 1, "start": {"a": 0, "c": 0}, "acked": 1, "printed": {},
 "stats": {"kills": 0, "batches": 0, "claims": 0, "acks": 0, "printed": 0,
           "printed_collected": 0, "collected": 0}}
EOF
}

total_stats() {
    local f
    for f in "$REL_WORK"/state.*.json; do
        pyrel crash-stats --state "$f"
    done | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); s[kv[1]] += kv[2]; if (!(kv[1] in o)) { o[kv[1]] = ++n; k[n] = kv[1] } } }
        END { for (i = 1; i <= n; i++) printf "%s=%d ", k[i], s[k[i]] }'
}

# Part 2 runs in the background during part 1 (it is CPU-bound, part 1 mostly waits).
trunc_runs=("singles 0 0" "batch 0 0" "multitopic 0 0" "multitopic 1 0")
if ((REL_LONG)); then
    trunc_runs+=("singles 1 0" "batch 1 0" "singles 1 300" "singles 0 300" "batch 0 200" "multitopic 0 250" "multitopic 1 250")
fi
# truncation_sweeps LANE LANES: the sweeps whose index is LANE modulo LANES.
truncation_sweeps() {
    local i run layout sync segb out
    for ((i = $1; i < ${#trunc_runs[@]}; i += $2)); do
        read -r layout sync segb <<<"${trunc_runs[i]}"
        out="$REL_WORK/trunc.$layout.$sync.$segb"
        mkdir -p "$out.d"
        pyrel truncate-sweep --work "$out.d" --layout "$layout" --sync "$sync" \
            --seg-bytes "$segb" --seed "$REL_SEED" >"$out" 2>&1
        echo $? >"$out.rc"
        ((REL_KEEP)) || rm -rf "$out.d"
    done
}
trunc_pids=()
for lane in 0 1; do
    truncation_sweeps "$lane" 2 &
    trunc_pids+=("$!")
    REL_PIDS+=("$!")
done

rel_log "part 1: $KILLS kills of the mixed workload ($WRITERS writers, proc P, pp-gc; segments of $SEG_BYTES bytes)"
store_n=0
survived=0
for ((kill = 1; kill <= KILLS; kill++)); do
    if (((kill - 1) % PER_STORE == 0)); then
        store_n=$((store_n + 1))
        new_store "$store_n" || break
    fi
    dir="$REL_WORK/kill.$kill"
    mkdir -p "$dir"
    k0=$((kill * 1000000))
    # Mostly early kills (start-up, first commits), sometimes after a longer run.
    if ((RANDOM % 8 == 0)); then delay=$(rand_int 500 2500); else delay=$(rand_int 5 500); fi
    start_group bash "$REL_DIR/crash_workload.sh" "$dir" "$k0" "$WRITERS" "$RANDOM"
    sleep_ms "$delay"
    kill_group "$group" || break
    if ! pyrel crash-verify --state "$STATE" --iterdir "$dir" --iter "$kill" --k0 "$k0" \
        --writers "$WRITERS" --verbose >"$dir/verify.out" 2>&1; then
        rel_fail "invariants broken after kill $kill (${delay} ms; store $PIPEPROC_LOCATION)" \
            "$(grep -m 12 . "$dir/verify.out")"
        break
    fi
    rel_pass
    survived=$((survived + 1))
    if ((kill % $(long_or 100 10) == 0 || kill == KILLS)); then
        rel_log "$survived/$kill kills survived; $(tail -n 1 "$dir/verify.out")"
    fi
    # Keep the work directory small: a passed kill's files are not needed any more.
    ((REL_KEEP)) || rm -rf "$dir"
done
stats=$(total_stats)
rel_log "part 1: $survived of $KILLS kills survived: $stats"

rel_log "part 2: truncating the last segment at every byte of its last 3 records (${#trunc_runs[@]} layouts)"
for pid in "${trunc_pids[@]}"; do
    wait_pid_bounded 1800 "$pid" || rel_fail "the truncation sweeps did not end in 30 minutes"
done
trunc_offsets=0
trunc_ok=0
for run in "${trunc_runs[@]}"; do
    read -r layout sync segb <<<"$run"
    out="$REL_WORK/trunc.$layout.$sync.$segb"
    if [[ $(cat "$out.rc" 2>/dev/null) == 0 ]]; then
        rel_pass
    else
        rel_fail "truncation sweep $layout (sync=$sync, segment bytes $segb)" "$(grep -m 12 . "$out")"
    fi
    line=$(grep '^TRUNC' "$out" | tail -n 1)
    rel_log "${line:-TRUNC $layout sync=$sync: no result}"
    n=$(sed -n 's/.* offsets=\([0-9]*\).*/\1/p' <<<"$line")
    u=$(sed -n 's/.* unrecoverable=\([0-9]*\).*/\1/p' <<<"$line")
    trunc_offsets=$((trunc_offsets + ${n:-0}))
    trunc_ok=$((trunc_ok + ${n:-0} - ${u:-0}))
done

rel_summary "kills=$KILLS kills_survived=$survived $(sed 's/kills=[0-9]* //' <<<"$stats")truncations=$trunc_offsets truncations_recovered=$trunc_ok"
rel_exit
