#!/usr/bin/env bash
# corruption.sh [--long] [--seed N] [--keep]: flip one bit at a random place of a segment,
# an index or the journal of a copy of a store, and check what the tools make of it.
#
#   segment record (header or body): pp-check exits 74 naming the segment file; pp-range
#     exits 74 with corrupt_record and prints nothing but a prefix of the true logs; the
#     damaged log alone is corrupt_record too; the other topic reads as before;
#     pp-check --repair drops no valid log (exit 74 and no file changed, or every log
#     before the damage kept and none after it existed, or exit 0 with every log as before
#     when the journal still held a copy of the damaged one); pp-check --repair --cut exits 0,
#     the store is clean, the topic holds exactly the logs before the damage, every valid
#     log after it is in lost+found/TOPIC.SEQ.jsonl, and the next commit gets the damaged
#     sequence.
#   segment file header: as above, but the records are intact, so reads may also succeed
#     with the true logs; --repair may rewrite the header, else --repair --cut cuts there.
#   torn tail (bytes after the committed end of the last segment or the journal: junk,
#     zeros, a cut copy of the last record): reads unchanged; pp-check clean or exit 74
#     naming the file; pp-check --repair exits 0 and then pp-check 0; the next commit
#     continues the sequence, and all of it survives deleting the control block.
#   index: pp-check exits 74 naming the index file; every read gives the same output as
#     before (an index is derived data); pp-check --repair exits 0 and then pp-check 0.
#   journal: pp-check exits 74 naming the journal; reads are unchanged while the control
#     block (a cache of the journal) is there; pp-check --repair changes nothing unless it
#     makes the store clean. Then the control block is deleted (as after a reboot): damage
#     before the last record must be reported (exit 74, corrupt_record), never replaced
#     by a silently shorter store; damage in the last record may drop it as a torn write.
#
# Quick: 30 record + 4 header + 6 torn tails + 15 index + 15 + 3 journal flips; long: about
# 13 times as many.
# Environment: PP_BIN.

source "$(dirname "$0")/lib.sh"
rel_parse_args "$@"

N_REC=$(long_or 400 30)
N_HDR=$(long_or 60 4)
N_IDX=$(long_or 200 15)
N_JNL=$(long_or 200 15)
N_JLEN=$(long_or 20 3)
N_TAIL=$(long_or 60 6)

PRISTINE="$REL_WORK/pristine"
W="$REL_WORK/w"
declare -A tried detected
restored=0  # record flips that pp-check --repair wrote back from the journal's copy

# ---------------------------------------------------------------- the store
# Topic t: 400 logs over ~10 segments (4 KiB), 20 commits at timestamps 1000, 1010, ...;
# topic u: 30 logs in one segment; proc p on t with acks; the last commit (the last
# journal record) is one log {"final":true} in u.
build_pristine() {
    export PIPEPROC_LOCATION=$PRISTINE
    local k
    for ((k = 0; k < 20; k++)); do
        seq $((k * 20)) $((k * 20 + 19)) |
            awk '{ printf "{\"i\":%d,\"pad\":\"%s\"}\n", $1, substr("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", 1, ($1 * 7) % 50 + 10) }' |
            PIPEPROC_SEGMENT_BYTES=4096 PIPEPROC_NOW_MS=$((1000 + k * 10)) pp-commit -q -t t || return 1
    done
    for ((k = 0; k < 29; k++)); do
        PIPEPROC_NOW_MS=$((2000 + k)) pp-commit -q -t u "{\"u\":$k}" || return 1
    done
    pp-proc t -n p -c 5 >/dev/null && pp-ack p >/dev/null &&
        pp-proc t -n p -c 5 >/dev/null && pp-ack p >/dev/null || return 1
    PIPEPROC_NOW_MS=3000 pp-commit -q -t u '{"final":true}' || return 1
    pp-range t >"$REL_WORK/pristine.t" && pp-range u >"$REL_WORK/pristine.u" || return 1
    reads >"$REL_WORK/pristine.reads"
    pp-check >/dev/null || return 1
}

# reads: the reads compared before and after damage to derived files (exit codes too).
reads() {
    local r
    while IFS= read -r r; do
        echo "## $r"
        eval "$r" 2>&1
        echo "rc=$?"
    done <<'EOF'
pp-range t
pp-range u
pp-length t
pp-length u
pp-range t -s :150 -l 3 --format id
pp-range t -s :399 -e :399 --format id
pp-range t -s 1100 -l 2 --format id
pp-range t -s 1105 -l 2 --format id
pp-range t -r -s :300 -l 2 --format id
pp-range t -r -l 1
pp-range t -s 1050 -e 1120 -x --format id
pp-range t -s 1190 -e 1190 --format id
pp-range t -r -s 1120 -e 1100 --format id
pp-range u -s 2010 -l 2
pp-procs list
EOF
}

# is_prefix FILE OF: FILE holds the first lines of OF (possibly none).
is_prefix() {
    local n
    n=$(wc -c <"$1")
    ((n == 0)) && return 0
    [[ $(tail -c 1 "$1" | od -An -c | tr -d ' ') == '\n' ]] || return 1
    cmp -s -n "$n" "$1" "$2"
}


note_detected() { detected[$1]=$((${detected[$1]:-0} + 1)); }

# pick_segment TOPIC: a random segment file of TOPIC in the work copy.
pick_segment() {
    local segs
    mapfile -t segs < <(ls "$W/topics/$1/"*.log | sort)
    echo "${segs[RANDOM % ${#segs[@]}]}"
}

# check_cut TOPIC DAMAGED_SEQ...: pp-check --repair --cut, then the store is clean, the
# topic a prefix, every valid log after it in lost+found, and the next commit continues.
check_cut() {
    local topic=$1 what=$2
    shift 2
    expect_rc 0 "$what: pp-check --repair --cut" pp-check --repair --cut || return 1
    expect_rc 0 "$what: pp-check after --repair --cut" pp-check || return 1
    pp-range "$topic" >"$REL_WORK/cut.out" 2>"$REL_WORK/cut.err" ||
        { rel_fail "$what: pp-range $topic after --repair --cut failed" "$(cat "$REL_WORK/cut.err")"; return 1; }
    pyrel cut-check --store "$W" --topic "$topic" --pristine "$REL_WORK/pristine.$topic" \
        --topic-out "$REL_WORK/cut.out" --damaged "$@" >"$REL_WORK/cutcheck.out" 2>&1 ||
        { rel_fail "$what: after --repair --cut" "$(cat "$REL_WORK/cutcheck.out")"; return 1; }
    rel_pass
    local n id
    n=$(wc -l <"$REL_WORK/cut.out")
    id=$(pp-commit -t "$topic" '{"after":"cut"}' 2>&1)
    [[ $id =~ ^[0-9]+-$n$ ]] || { rel_fail "$what: the commit after the cut printed '$id', expected sequence $n"; return 1; }
    expect_rc 0 "$what: pp-check after the commit that follows the cut" pp-check || return 1
    expect_rc 0 "$what: pp-procs list after the cut" pp-procs list
}

# ---------------------------------------------------------------- trials

trial_record() {
    local i=$1 topic seg recs rec off len seq ts where pos bit base what
    copy_store "$PRISTINE" "$W"
    export PIPEPROC_LOCATION=$W
    if ((RANDOM % 5 == 0)); then topic=u; else topic=t; fi
    seg=$(pick_segment "$topic")
    mapfile -t recs < <(pyrel segrecords "$seg")
    read -r off len seq ts <<<"${recs[RANDOM % ${#recs[@]}]}"
    if ((RANDOM % 10 < 7)); then
        where=body
        pos=$((off + 32 + $(rand_below $((len - 32)))))
    else
        where=header
        pos=$((off + RANDOM % 32))
    fi
    bit=$((RANDOM % 8))
    base=$(basename "$seg")
    what="record flip $i: $topic/$base byte $pos bit $bit (record header of log $seq at $off; $where)"
    [[ $where == body ]] && what="record flip $i: $topic/$base byte $pos bit $bit (body of log $seq at $off)"
    pyrel flip "$seg" "$pos" "$bit"
    tried[record]=$((${tried[record]:-0} + 1))

    rel_run "$REL_WORK/o" "$REL_WORK/e" pp-check
    if ((rc == 74)) && grep -qF "$base" "$REL_WORK/o" "$REL_WORK/e"; then
        note_detected record
        rel_pass
    else
        rel_fail "$what: pp-check exited $rc and must exit 74 naming $base" "$(head -c 600 "$REL_WORK/o" "$REL_WORK/e")"
    fi
    rel_run "$REL_WORK/o" "$REL_WORK/e" pp-range "$topic"
    if ((rc == 74)) && grep -q 'corrupt_record' "$REL_WORK/e"; then
        rel_pass
    else
        rel_fail "$what: pp-range $topic exited $rc, expected 74 corrupt_record" "$(head -c 400 "$REL_WORK/e")"
    fi
    is_prefix "$REL_WORK/o" "$REL_WORK/pristine.$topic" ||
        rel_fail "$what: pp-range $topic printed data that is not a prefix of the true logs" "$(diff "$REL_WORK/o" "$REL_WORK/pristine.$topic" | head -5)"
    expect_rc 74 "$what: reading the damaged log alone" pp-range "$topic" -s ":$seq" -e ":$seq"
    local other=t
    [[ $topic == t ]] && other=u
    pp-range "$other" 2>&1 | cmp -s - "$REL_WORK/pristine.$other" ||
        rel_fail "$what: topic $other does not read as before"
    # --repair alone never drops a valid log: it refuses (no file changes) or keeps all
    # logs before the damage when there are none after it.
    local fp_before last
    fp_before=$(store_fingerprint "$W")
    last=$(($(wc -l <"$REL_WORK/pristine.$topic") - 1))
    rel_run "$REL_WORK/o" "$REL_WORK/e" pp-check --repair
    if ((rc == 74)); then
        [[ $(store_fingerprint "$W") == "$fp_before" ]] ||
            rel_fail "$what: pp-check --repair exited 74 but changed files"
        check_cut "$topic" "$what" "$seq"
    elif ((rc == 0)) && pp-range "$topic" 2>/dev/null | cmp -s - "$REL_WORK/pristine.$topic"; then
        # The journal still carried the damaged log (a small durable commit): written back.
        restored=$((restored + 1))
        expect_rc 0 "$what: pp-check after --repair wrote the log back" pp-check
    elif ((rc == 0)) && ((seq == last)); then
        pp-range "$topic" >"$REL_WORK/o2"
        cmp -s "$REL_WORK/o2" <(head -n "$seq" "$REL_WORK/pristine.$topic") ||
            rel_fail "$what: pp-check --repair cut the damaged last log but lost others"
    else
        rel_fail "$what: pp-check --repair exited $rc with valid logs after the damage" "$(head -c 400 "$REL_WORK/o" "$REL_WORK/e")"
    fi
}

trial_header() {
    local i=$1 seg base pos bit segbase what
    copy_store "$PRISTINE" "$W"
    export PIPEPROC_LOCATION=$W
    seg=$(pick_segment t)
    base=$(basename "$seg")
    segbase=$((10#${base%.log}))
    pos=$((RANDOM % 32))
    bit=$((RANDOM % 8))
    what="segment header flip $i: t/$base byte $pos bit $bit"
    pyrel flip "$seg" "$pos" "$bit"
    tried[segment_header]=$((${tried[segment_header]:-0} + 1))
    rel_run "$REL_WORK/o" "$REL_WORK/e" pp-check
    if ((rc == 74)) && grep -qF "$base" "$REL_WORK/o" "$REL_WORK/e"; then
        note_detected segment_header
        rel_pass
    else
        rel_fail "$what: pp-check exited $rc and must exit 74 naming $base" "$(head -c 600 "$REL_WORK/o" "$REL_WORK/e")"
    fi
    rel_run "$REL_WORK/o" "$REL_WORK/e" pp-range t
    if ((rc == 0)); then
        cmp -s "$REL_WORK/o" "$REL_WORK/pristine.t" || rel_fail "$what: pp-range t exited 0 with wrong data"
    elif ((rc == 74)); then
        is_prefix "$REL_WORK/o" "$REL_WORK/pristine.t" || rel_fail "$what: pp-range t printed wrong data before failing"
    else
        rel_fail "$what: pp-range t exited $rc" "$(head -c 400 "$REL_WORK/e")"
    fi
    local fp_before
    fp_before=$(store_fingerprint "$W")
    rel_run "$REL_WORK/o" "$REL_WORK/e" pp-check --repair
    if ((rc == 0)); then
        expect_rc 0 "$what: pp-check after --repair" pp-check
        pp-range t | cmp -s - "$REL_WORK/pristine.t" || rel_fail "$what: pp-check --repair exited 0 but t changed"
    elif ((rc == 74)); then
        [[ $(store_fingerprint "$W") == "$fp_before" ]] || rel_fail "$what: pp-check --repair exited 74 but changed files"
        # No log is damaged: --cut may cut at the segment, and must save all after it.
        check_cut t "$what"
    else
        rel_fail "$what: pp-check --repair exited $rc"
    fi
}

trial_index() {
    local i=$1 idxs idx base pos bit what
    copy_store "$PRISTINE" "$W"
    export PIPEPROC_LOCATION=$W
    mapfile -t idxs < <(ls "$W"/topics/*/*.idx)
    idx=${idxs[RANDOM % ${#idxs[@]}]}
    base=$(basename "$idx")
    pos=$(rand_below "$(stat -c %s "$idx")")
    bit=$((RANDOM % 8))
    what="index flip $i: ${idx#"$W/topics/"} byte $pos bit $bit"
    pyrel flip "$idx" "$pos" "$bit"
    tried[index]=$((${tried[index]:-0} + 1))
    rel_run "$REL_WORK/o" "$REL_WORK/e" pp-check
    if ((rc == 74)) && grep -qF "$base" "$REL_WORK/o" "$REL_WORK/e"; then
        note_detected index
        rel_pass
    else
        rel_fail "$what: pp-check exited $rc and must exit 74 naming $base" "$(head -c 600 "$REL_WORK/o" "$REL_WORK/e")"
    fi
    reads >"$REL_WORK/reads"
    diff -q "$REL_WORK/reads" "$REL_WORK/pristine.reads" >/dev/null ||
        rel_fail "$what: reads differ from before the damage" "$(diff "$REL_WORK/pristine.reads" "$REL_WORK/reads" | head -8)"
    expect_rc 0 "$what: pp-check --repair" pp-check --repair &&
        expect_rc 0 "$what: pp-check after --repair" pp-check
    reads >"$REL_WORK/reads"
    diff -q "$REL_WORK/reads" "$REL_WORK/pristine.reads" >/dev/null ||
        rel_fail "$what: reads after --repair differ" "$(diff "$REL_WORK/pristine.reads" "$REL_WORK/reads" | head -8)"
}

# trial_journal I [length]: a random bit, or (length) a high bit of the length field of a
# record before the last one, so that the record seems to run past the end of the file.
trial_journal() {
    local i=$1 mode=${2:-random} j recs last_off pos bit what fp_before r
    copy_store "$PRISTINE" "$W"
    export PIPEPROC_LOCATION=$W
    j="$W/journal"
    mapfile -t recs < <(pyrel jrecords "$j")
    last_off=$(cut -d' ' -f1 <<<"${recs[-1]}")
    if [[ $mode == length ]]; then
        r=$((1 + RANDOM % (${#recs[@]} - 2)))
        pos=$(($(cut -d' ' -f1 <<<"${recs[r]}") + 8 + 2))
        what="journal length flip $i: length field of record $r of ${#recs[@]}"
    else
        pos=$(rand_below "$(stat -c %s "$j")")
        what="journal flip $i"
    fi
    bit=$((RANDOM % 8))
    what="$what: byte $pos bit $bit (last record at $last_off)"
    pyrel flip "$j" "$pos" "$bit"
    tried[journal]=$((${tried[journal]:-0} + 1))
    rel_run "$REL_WORK/o" "$REL_WORK/e" pp-check
    if ((rc == 74)) && grep -qF "journal" "$REL_WORK/o" "$REL_WORK/e"; then
        note_detected journal
        rel_pass
    else
        rel_fail "$what: pp-check exited $rc and must exit 74 naming the journal" "$(head -c 600 "$REL_WORK/o" "$REL_WORK/e")"
    fi
    # With the control block intact, reads give the true answer or refuse (74).
    reads >"$REL_WORK/reads"
    pyrel reads-compare --allow-corrupt "$REL_WORK/pristine.reads" "$REL_WORK/reads" >"$REL_WORK/cmp" 2>&1 ||
        rel_fail "$what: reads while the control block is intact" "$(cat "$REL_WORK/cmp")"
    grep -q refused "$REL_WORK/cmp" && journal_reads_refused=$((journal_reads_refused + 1))
    fp_before=$(store_fingerprint "$W")
    rel_run "$REL_WORK/o" "$REL_WORK/e" pp-check --repair
    if ((rc == 0)); then
        expect_rc 0 "$what: pp-check after --repair" pp-check
        reads >"$REL_WORK/reads"
        diff -q "$REL_WORK/reads" "$REL_WORK/pristine.reads" >/dev/null || rel_fail "$what: --repair changed the logs"
        repaired_journal=$((repaired_journal + 1))
        return
    fi
    [[ $(store_fingerprint "$W") == "$fp_before" ]] || rel_fail "$what: pp-check --repair exited $rc but changed files"
    # The control block is lost (reboot, deletion): the journal is all there is.
    rm -f "$W/control"
    rel_run "$REL_WORK/o" "$REL_WORK/e" pp-range t
    if ((rc == 74)) && grep -q corrupt_record "$REL_WORK/e"; then
        note_detected journal_without_control
        rel_pass
    elif ((pos >= last_off)) && ((rc == 0)); then
        # The last record may be taken for a torn write and dropped: the store is then the
        # one before the last commit (u without {"final":true}), and clean.
        journal_tail_dropped=$((journal_tail_dropped + 1))
        cmp -s "$REL_WORK/o" "$REL_WORK/pristine.t" || rel_fail "$what: after dropping the last journal record t changed"
        pp-range u | cmp -s - <(head -n 29 "$REL_WORK/pristine.u") ||
            rel_fail "$what: after dropping the last journal record u is not the 29 logs before it"
        expect_rc 0 "$what: pp-check after the torn last record was dropped" pp-check
    else
        reads >"$REL_WORK/reads"
        rel_fail "$what: without the control block pp-range t exited $rc: damage before the last journal record must be reported (74 corrupt_record), not replaced by a shorter store" \
            "pp-check says: $(pp-check 2>&1 | head -2)" "what changed:" \
            "$(pyrel reads-compare "$REL_WORK/pristine.reads" "$REL_WORK/reads" 2>&1 | head -9)"
    fi
    tried[journal_without_control]=$((${tried[journal_without_control]:-0} + 1))
}

# trial_tail I: bytes appended after the committed end of a file (a torn write of a writer
# that died): junk, zeros, or a cut copy of a real record, after the last segment of t or
# u, or after the journal. Reads are unchanged, pp-check is clean or reports the file,
# pp-check --repair makes it clean without changing a log, and the next commit continues.
trial_tail() {
    local i=$1 target f kind n what rec off len
    copy_store "$PRISTINE" "$W"
    export PIPEPROC_LOCATION=$W
    case $((RANDOM % 3)) in
    0) target=t f=$(ls "$W"/topics/t/*.log | sort | tail -n 1) ;;
    1) target=u f=$(ls "$W"/topics/u/*.log | sort | tail -n 1) ;;
    2) target=journal f="$W/journal" ;;
    esac
    n=$((RANDOM % 200 + 1))
    case $((RANDOM % 3)) in
    0) kind="$n random bytes"; head -c "$n" /dev/urandom >>"$f" ;;
    1) kind="$n zero bytes"; head -c "$n" /dev/zero >>"$f" ;;
    2)  # the first part of a copy of the file's last record: what a torn append leaves
        if [[ $target == journal ]]; then
            read -r off len _ < <(pyrel jrecords "$f" | tail -n 1)
        else
            read -r off len _ < <(pyrel segrecords "$f" | tail -n 1)
        fi
        n=$((RANDOM % (len - 1) + 1))
        kind="the first $n of $len bytes of a copy of its last record"
        tail -c +$((off + 1)) "$f" | head -c "$n" >"$REL_WORK/torn"
        cat "$REL_WORK/torn" >>"$f"
        ;;
    esac
    what="torn tail $i: $kind after ${f#"$W/"}"
    tried[torn_tail]=$((${tried[torn_tail]:-0} + 1))
    reads >"$REL_WORK/reads"
    pyrel reads-compare "$REL_WORK/pristine.reads" "$REL_WORK/reads" >"$REL_WORK/cmp" 2>&1 ||
        rel_fail "$what: reads differ" "$(cat "$REL_WORK/cmp")"
    rel_run "$REL_WORK/o" "$REL_WORK/e" pp-check
    if ((rc == 74)); then
        grep -qF "$(basename "$f")" "$REL_WORK/o" "$REL_WORK/e" ||
            rel_fail "$what: pp-check exit 74 without naming $(basename "$f")" "$(head -c 300 "$REL_WORK/o" "$REL_WORK/e")"
        note_detected torn_tail
    elif ((rc != 0)); then
        rel_fail "$what: pp-check exited $rc" "$(head -c 300 "$REL_WORK/e")"
    fi
    expect_rc 0 "$what: pp-check --repair" pp-check --repair &&
        expect_rc 0 "$what: pp-check after --repair" pp-check
    reads >"$REL_WORK/reads"
    pyrel reads-compare "$REL_WORK/pristine.reads" "$REL_WORK/reads" >"$REL_WORK/cmp" 2>&1 ||
        rel_fail "$what: reads after --repair differ" "$(cat "$REL_WORK/cmp")"
    local id
    id=$(pp-commit -t t '{"after":"tail"}' 2>&1)
    [[ $id == *-400 ]] || rel_fail "$what: the next commit to t printed '$id', expected sequence 400"
    expect_rc 0 "$what: pp-check after the next commit" pp-check
    # And all of it survives the loss of the control block (the journal is read again).
    rm -f "$W/control"
    expect_rc 0 "$what: pp-check after the control block was rebuilt" pp-check
    [[ $(pp-length t 2>&1) == 401 && $(pp-length u 2>&1) == 30 ]] ||
        rel_fail "$what: after the control block was rebuilt t holds $(pp-length t 2>&1) logs (401 expected), u $(pp-length u 2>&1) (30)"
}

# ---------------------------------------------------------------- main
build_pristine || { rel_fail "building the store failed"; rel_exit; }
rel_log "store: t $(wc -l <"$REL_WORK/pristine.t") logs in $(ls "$PRISTINE"/topics/t/*.log | wc -l) segments, u $(wc -l <"$REL_WORK/pristine.u") logs, journal $(stat -c %s "$PRISTINE/journal") bytes"
repaired_journal=0
journal_reads_refused=0
journal_tail_dropped=0
for ((i = 1; i <= N_REC; i++)); do trial_record "$i"; done
rel_log "record flips: ${detected[record]:-0}/${tried[record]:-0} detected by pp-check, $restored written back from the journal by --repair"
for ((i = 1; i <= N_HDR; i++)); do trial_header "$i"; done
rel_log "segment header flips: ${detected[segment_header]:-0}/${tried[segment_header]:-0} detected"
for ((i = 1; i <= N_TAIL; i++)); do trial_tail "$i"; done
rel_log "torn tails: ${tried[torn_tail]:-0} tried, pp-check reported ${detected[torn_tail]:-0} of them, --repair made all clean"
for ((i = 1; i <= N_IDX; i++)); do trial_index "$i"; done
rel_log "index flips: ${detected[index]:-0}/${tried[index]:-0} detected"
for ((i = 1; i <= N_JNL; i++)); do trial_journal "$i"; done
for ((i = 1; i <= N_JLEN; i++)); do trial_journal "$i" length; done
rel_log "journal flips: ${detected[journal]:-0}/${tried[journal]:-0} detected; without the control block" \
    "${detected[journal_without_control]:-0}/${tried[journal_without_control]:-0} reported," \
    "$journal_tail_dropped dropped as a torn last record, $repaired_journal repaired;" \
    "$journal_reads_refused times some reads refused (74) while the control block was intact"

total_tried=0
total_detected=0
for k in record segment_header index journal; do
    total_tried=$((total_tried + ${tried[$k]:-0}))
    total_detected=$((total_detected + ${detected[$k]:-0}))
done
rel_summary "corruptions=$total_tried detected=$total_detected torn_tails=${tried[torn_tail]:-0}" \
    "record=${detected[record]:-0}/${tried[record]:-0} header=${detected[segment_header]:-0}/${tried[segment_header]:-0}" \
    "index=${detected[index]:-0}/${tried[index]:-0} journal=${detected[journal]:-0}/${tried[journal]:-0}" \
    "journal_no_control=${detected[journal_without_control]:-0}/${tried[journal_without_control]:-0}"
rel_exit
