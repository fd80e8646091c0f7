#!/usr/bin/env bash
# diskfull.sh [--long] [--seed N] [--keep]: writes that fail because the file system says no.
#
# Part 1, RLIMIT_FSIZE (no privileges needed): a commit run under a file size limit that
# it crosses must fail with a clear error (`pp-TOOL: error: CODE: ...`) and exit 74, print
# no id, and leave nothing partial: pp-range and pp-length as before, pp-check clean.
# Once the limit is lifted the next commit succeeds and continues the sequences. The limit
# is swept over byte positions inside the growth of each file a commit writes (segments,
# indexes, journal), with `pprel.py fsize` (SIGXFSZ ignored, the write gets EFBIG); a few
# runs use `ulimit -f` in a subshell as a user would, where SIGXFSZ keeps its default
# action (the tool must not die of it). Covered: single-topic and atomic multi-topic
# commits, segment rolls (small PIPEPROC_SEGMENT_BYTES), a new topic, a new store,
# pp-proc claims, pp-ack --commit, pp-gc.
#
# Part 2, real ENOSPC (needs `mount -t tmpfs`, skipped cleanly when not permitted): a store
# on a 1 MiB tmpfs (less than the 12 MiB control block; if the store cannot start there it
# must say so with exit 74, and a 14 MiB tmpfs is used). A filler file takes the space,
# commits go on until the file system is full: failing commits exit 74 with nothing
# partial; while it is full pp-check, reads, new topics, new procs, pp-ack --commit,
# pp-gc and pp-procs list succeed or exit 74, never die by a signal (SIGBUS from an
# unbacked page of the mapped control block); after the filler goes commits continue.
#
# Quick: ~60 limits; long: every byte of every file's growth.

source "$(dirname "$0")/lib.sh"
rel_parse_args "$@"

STEP=$(long_or 1 0)   # 0: sample the limits
SAMPLES=2             # random limits per file's growth in quick mode (plus its edges)
declare -A n_fail n_ok
enospc="skipped"
REL_MOUNTS=()

cleanup_mounts() {
    local m
    for m in "${REL_MOUNTS[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
}
trap 'cleanup_mounts; rel_cleanup' EXIT

# fsize OUT ERR LIMIT CMD...: CMD under RLIMIT_FSIZE = LIMIT bytes, SIGXFSZ ignored; its
# output reaches OUT and ERR through pipes.
fsize() { pyrel fsize --out "$1" --err "$2" "${@:3}"; }

# snapshot: what readers see (the topics the tests use, lengths, procs).
snapshot() {
    local t
    for t in a b out newtopic; do
        echo "## $t"
        pp-range "$t" 2>&1
        pp-length "$t" 2>&1
    done
    echo "## procs"
    pp-procs list 2>&1 | sed 's/"lastClaimedAt":[0-9]*,//; s/"createdAt":[0-9]*,//'
}

# file_sizes STORE: "size path" of the files a commit may extend.
file_sizes() { (cd "$1" && find . -type f ! -name control ! -name LOCK -printf '%s %p\n' | sort -k2); }

# limits BEFORE AFTER: the limits worth trying for a commit that grows the files listed in
# BEFORE to the sizes in AFTER: every byte of each file's growth (long), or the edges and
# a random sample (quick).
limits() {
    local LC_ALL=C
    join -1 2 -2 2 -a 2 -e 0 -o 1.1,2.1 <(sort -k2 "$1") <(sort -k2 "$2") |
        awk -v step="$STEP" -v n="$SAMPLES" -v seed="$RANDOM" '
            BEGIN { srand(seed) }
            $2 > $1 { for (l = $1; l < $2; l++) if (step || l == $1 || l == $1 + 1 || l == $2 - 1 || rand() < n / ($2 - $1 + 1)) want[l] = 1 }
            END { for (l in want) print l }' | sort -n | uniq
}

# try_under_limit SCENARIO LIMIT CMD...: run CMD (stdin from $REL_WORK/input if present)
# with the limit in a copy of $BASE; check all-or-nothing; then lift the limit and run
# CMD again: it must succeed.
try_under_limit() {
    local scen=$1 limit=$2 what before after
    shift 2
    what="$scen: limit $limit bytes"
    copy_store "$BASE" "$W"
    export PIPEPROC_LOCATION=$W
    snapshot >"$REL_WORK/before"
    rc=0
    fsize "$REL_WORK/o" "$REL_WORK/e" "$limit" "$@" <"$REL_WORK/input" || rc=$?
    if ((rc == 0)); then
        n_ok[$scen]=$((${n_ok[$scen]:-0} + 1))
        expect_rc 0 "$what: pp-check after a commit that fit" pp-check
        return
    fi
    n_fail[$scen]=$((${n_fail[$scen]:-0} + 1))
    if ((rc != 74)); then
        rel_fail "$what: exited $rc, expected 74" "$(head -c 400 "$REL_WORK/e")"
    elif ! grep -Eq '^pp-[a-z]+: error: [a-z_]+: .' "$REL_WORK/e"; then
        rel_fail "$what: exit 74 without an error line" "$(head -c 400 "$REL_WORK/e")"
    else
        rel_pass
    fi
    [[ ! -s $REL_WORK/o ]] || rel_fail "$what: the failed command printed $(head -c 200 "$REL_WORK/o")"
    snapshot >"$REL_WORK/after"
    cmp -s "$REL_WORK/before" "$REL_WORK/after" ||
        rel_fail "$what: the failed command changed what readers see" "$(diff "$REL_WORK/before" "$REL_WORK/after" | head -6)"
    expect_rc 0 "$what: pp-check after the failed command" pp-check
    # The limit is lifted: the same command goes through, sequences continue.
    rc=0
    "$@" <"$REL_WORK/input" >"$REL_WORK/o" 2>"$REL_WORK/e" || rc=$?
    if ((rc != 0)); then
        rel_fail "$what: after lifting the limit the command exited $rc" "$(head -c 400 "$REL_WORK/e")"
        return
    fi
    [[ -z ${EXPECT_IDS:-} ]] || diff <(sed 's/^[0-9]*-//' "$REL_WORK/o") <(printf '%s\n' $EXPECT_IDS) >/dev/null ||
        rel_fail "$what: after lifting the limit it printed $(tr '\n' ' ' <"$REL_WORK/o"), expected sequences $EXPECT_IDS"
    expect_rc 0 "$what: pp-check after the command succeeded" pp-check
}

# sweep SCENARIO CMD...: probe the growth of CMD on a copy of $BASE, then try every limit.
sweep() {
    local scen=$1 l
    shift
    copy_store "$BASE" "$W"
    file_sizes "$W" >"$REL_WORK/sizes.before"
    PIPEPROC_LOCATION=$W "$@" <"$REL_WORK/input" >/dev/null 2>&1 || { rel_fail "$scen: the command fails without a limit"; return; }
    file_sizes "$W" >"$REL_WORK/sizes.after"
    local n=0
    for l in $(limits "$REL_WORK/sizes.before" "$REL_WORK/sizes.after"); do
        try_under_limit "$scen" "$l" "$@"
        n=$((n + 1))
    done
    rel_log "$scen: $n limits, the command failed under ${n_fail[$scen]:-0} (exit 74, nothing partial), fit under ${n_ok[$scen]:-0}"
}

# base_store NAME [SEGMENT_BYTES]: a store with topics a (20 logs), b (20 logs) and proc
# P on a with one acked claim and one open claim.
base_store() {
    BASE="$REL_WORK/base.$1"
    export PIPEPROC_LOCATION=$BASE
    local i
    for ((i = 0; i < 20; i++)); do
        printf '{"topic":"a","body":{"i":%d,"pad":"aaaaaaaaaaaaaaaaaaaaaaaa"}}\n{"topic":"b","body":{"i":%d}}\n' $i $i
    done | PIPEPROC_SEGMENT_BYTES=${2:-} pp-commit -q || return 1
    pp-proc a -n P -c 2 --format id >/dev/null && pp-ack P >/dev/null && pp-proc a -n P -c 2 --format id >/dev/null
}

W="$REL_WORK/w"
: >"$REL_WORK/input"
rel_log "part 1: commits under RLIMIT_FSIZE"
base_store plain || rel_fail "base store"
big=$(printf 'x%.0s' $(seq 1 300))
EXPECT_IDS="20" sweep "commit to one topic" pp-commit -t a "{\"big\":\"$big\"}"
printf '{"topic":"a","body":{"n":1,"big":"%s"}}\n{"topic":"b","body":{"n":2}}\n{"topic":"b","body":{"n":3,"big":"%s"}}\n' "$big" "$big" >"$REL_WORK/input"
EXPECT_IDS="20 20 21" sweep "atomic batch across topics" pp-commit --atomic
: >"$REL_WORK/input"
EXPECT_IDS="0" sweep "commit to a new topic" pp-commit -t newtopic "{\"big\":\"$big\"}"
EXPECT_IDS="" sweep "pp-ack --commit" pp-ack P --commit -t out "{\"big\":\"$big\"}" '{"n":2}'
EXPECT_IDS="" sweep "pp-proc claim of a new proc" pp-proc a -n Q -c 3 --format id
base_store small 600 || rel_fail "base store with small segments"
EXPECT_IDS="20 21" sweep "commit that rolls a segment" env PIPEPROC_SEGMENT_BYTES=600 pp-commit -t a "{\"big\":\"$big\"}" "{\"big\":\"$big\"}"

# pp-gc: its journal record under a limit (the GC writes little: try every small limit).
copy_store "$BASE" "$REL_WORK/gcbase"
for l in 0 1 $(($(stat -c %s "$BASE/journal") - 1)) $(stat -c %s "$BASE/journal"); do
    copy_store "$BASE" "$W"
    export PIPEPROC_LOCATION=$W
    snapshot >"$REL_WORK/before"
    rc=0
    fsize "$REL_WORK/o" "$REL_WORK/e" "$l" pp-gc --min-prune-time 0 || rc=$?
    if ((rc == 74)); then
        snapshot | cmp -s - "$REL_WORK/before" || rel_fail "pp-gc under limit $l: failed but changed the store"
        expect_rc 0 "pp-gc under limit $l: pp-check after" pp-check
        expect_rc 0 "pp-gc after lifting limit $l" pp-gc --min-prune-time 0
    elif ((rc == 0)); then
        expect_rc 0 "pp-gc under limit $l: pp-check after" pp-check
    else
        rel_fail "pp-gc under limit $l exited $rc" "$(head -c 300 "$REL_WORK/e")"
    fi
done

# A new store under a limit smaller than its control block.
export PIPEPROC_LOCATION="$REL_WORK/newstore"
expect_rc 74 "a new store under a 100 KiB limit" fsize "$REL_WORK/o" "$REL_WORK/e" 102400 pp-commit -t t '{"first":1}' &&
    { grep -Eq '^pp-commit: error: [a-z_]+: ' "$REL_WORK/e" || rel_fail "no error line for the new store" "$(cat "$REL_WORK/e")"; }
expect_rc 0 "the new store after lifting the limit" pp-commit -t t '{"first":1}'
expect_rc 0 "pp-check of the new store" pp-check

# As a user does it: `ulimit -f` in a subshell, SIGXFSZ left at its default action (which
# kills the process unless it ignores the signal): the tool must still exit 74.
copy_store "$BASE" "$W"
export PIPEPROC_LOCATION=$W
snapshot >"$REL_WORK/before"
rc=0
# (Output through a pipe: a file would be limited too.)
(ulimit -f 1 && exec pp-commit -t a "{\"big\":\"$big$big$big$big\"}") 2>&1 | cat >"$REL_WORK/oe"
rc=${PIPESTATUS[0]}
n_fail[ulimit]=1
if ((rc == 74)); then
    rel_pass
else
    rel_fail "pp-commit under \`ulimit -f 1\` (SIGXFSZ at its default) exited $rc$( ((rc > 128)) && echo " (killed by signal $((rc - 128)))"), expected 74: the tools must ignore SIGXFSZ to report EFBIG"
fi
snapshot | cmp -s - "$REL_WORK/before" || rel_fail "pp-commit under ulimit -f changed what readers see"
expect_rc 0 "pp-check after the ulimit -f failure" pp-check
rc=0
(trap '' XFSZ && ulimit -f 1 && exec pp-commit -t a "{\"big\":\"$big$big$big$big\"}") 2>&1 | cat >"$REL_WORK/oe"
rc=${PIPESTATUS[0]}
((rc == 74)) && rel_pass || rel_fail "pp-commit under ulimit -f 1 with SIGXFSZ ignored exited $rc, expected 74"
expect_rc 0 "pp-commit after the ulimit subshell" pp-commit -t a '{"after":"ulimit"}'
[[ $(cat "$REL_WORK/last.out") == *-20 ]] || rel_fail "the commit after the ulimit failures got $(cat "$REL_WORK/last.out"), expected sequence 20"

limit_fails=0
for k in "${!n_fail[@]}"; do limit_fails=$((limit_fails + n_fail[$k])); done

# ---------------------------------------------------------------- part 2: ENOSPC
# signal_note RC: " (killed by signal N)" for an exit by a signal.
signal_note() { ((${1:-0} > 128)) && echo " (killed by signal $(($1 - 128)))"; }

# clean_or_ok WHAT CMD...: CMD may succeed or fail with 74 and an error line; never die by a
# signal (an unbacked page of a mapped file on a full file system is SIGBUS).
clean_or_ok() {
    local what=$1
    shift
    rel_run "$REL_WORK/o" "$REL_WORK/e" "$@"
    if ((rc == 0)) || { ((rc == 74)) && grep -Eq '^pp-[a-z]+: error: [a-z_]+: ' "$REL_WORK/e"; }; then
        rel_pass
        return 0
    fi
    rel_fail "$what on a full file system: exit $rc$(signal_note $rc), expected 0, or 74 with an error line: $(rel_show_cmd "$@")" \
        "stderr: $(head -c 300 "$REL_WORK/e")"
}

# enospc SIZE: a store on a tmpfs of SIZE; a filler file takes all but ~100 KiB after the
# first commit; commits until the file system is full; then everything else a user may
# run; then the filler goes and the store must work again.
enospc() {
    local size=$1 avail body i full=0 last
    mount -t tmpfs -o "size=$size" tmpfs "$MNT" || { rel_fail "mount a $size tmpfs"; return 1; }
    REL_MOUNTS+=("$MNT")
    export PIPEPROC_LOCATION="$MNT/store"
    rel_run "$REL_WORK/o" "$REL_WORK/e" pp-commit -q --atomic <<<'{"topic":"a","body":{"n":0}}
{"topic":"b","body":{"n":0}}'
    if ((rc != 0)); then
        if ((rc == 74)) && grep -Eq '^pp-commit: error: [a-z_]+: ' "$REL_WORK/e"; then
            rel_pass
            rel_log "a new store on a $size tmpfs: refused cleanly: $(head -n 1 "$REL_WORK/e")"
            # No store was created, so no topic exists: invalid_topic (exit 1), as the contract says.
            expect_rc 1 "pp-length after the refused store" pp-length a
        else
            rel_fail "a new store on a $size tmpfs: pp-commit exited $rc$(signal_note $rc), expected 0, or 74 with an error line" \
                "stderr: $(head -c 300 "$REL_WORK/e")" "(control block: $(stat -c '%s bytes, %b blocks' "$MNT/store/control" 2>/dev/null))"
        fi
        umount "$MNT" || umount -l "$MNT"
        return 1
    fi
    pp-proc a -n P -c 1 --format id >/dev/null || rel_fail "pp-proc on the tmpfs store"
    avail=$(df -k --output=avail "$MNT" | tail -n 1)
    head -c $(((avail - 100) * 1024)) /dev/zero >"$MNT/filler" 2>/dev/null
    body=$(printf 'y%.0s' $(seq 1 20000))
    for ((i = 1; i <= 200 && full < 3; i++)); do
        snapshot >"$REL_WORK/before"
        rc=0
        printf '{"topic":"a","body":{"n":%d,"y":"%s"}}\n{"topic":"b","body":{"n":%d,"y":"%s"}}\n' $i "$body" $i "$body" |
            pp-commit --atomic >"$REL_WORK/o" 2>"$REL_WORK/e" || rc=$?
        ((rc == 0)) && continue
        full=$((full + 1))
        ((rc == 74)) && grep -Eq '^pp-commit: error: [a-z_]+: ' "$REL_WORK/e" && rel_pass ||
            rel_fail "commit $i on a full $size file system exited $rc$(signal_note $rc), expected 74 with an error line" "$(head -c 300 "$REL_WORK/e")"
        [[ ! -s $REL_WORK/o ]] || rel_fail "the failed commit printed ids"
        snapshot | cmp -s - "$REL_WORK/before" || rel_fail "the failed commit $i changed what readers see"
    done
    ((full > 0)) || { rel_fail "the $size file system never filled up"; }
    enospc=$((enospc + full))
    # The file system is full: the rest of what users run fails cleanly or works.
    clean_or_ok "pp-check" pp-check
    clean_or_ok "pp-range" pp-range a --format id
    clean_or_ok "pp-length" pp-length b
    for i in 1 2 3 4 5 6; do clean_or_ok "a commit to a new topic" pp-commit -t "new$i" '{"x":1}'; done
    for i in 1 2 3 4 5 6; do clean_or_ok "pp-proc creating a proc" pp-proc a -n "Q$i" --format id; done
    clean_or_ok "pp-ack --commit" pp-ack P --commit -t out "{\"y\":\"$body\"}"
    clean_or_ok "pp-gc" pp-gc --min-prune-time 0
    clean_or_ok "pp-procs list" pp-procs list
    last=$(pp-range a -r -l 1 --format id | cut -d- -f2)
    # Space again: the store works, sequences continue.
    rm -f "$MNT/filler"
    expect_rc 0 "commit after freeing space on the $size tmpfs" pp-commit --atomic <<<'{"topic":"a","body":{"after":1}}
{"topic":"b","body":{"after":1}}'
    [[ $(head -n 1 "$REL_WORK/last.out") == *-$((last + 1)) ]] ||
        rel_fail "after freeing space the commit got $(head -n 1 "$REL_WORK/last.out"), expected sequence $((last + 1))"
    expect_rc 0 "pp-check after freeing space on the $size tmpfs" pp-check
    expect_rc 0 "pp-proc after freeing space" pp-proc a -n R --format id
    rel_log "ENOSPC on a $size tmpfs: $full commits failed cleanly, sequences continued at $((last + 1)) after freeing space"
    umount "$MNT" || umount -l "$MNT"
}

MNT="$REL_WORK/mnt"
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=1m tmpfs "$MNT" 2>"$REL_WORK/mount.err"; then
    rel_log "part 2 skipped: cannot mount a tmpfs ($(head -n 1 "$REL_WORK/mount.err"))"
else
    umount "$MNT"
    enospc=0
    rel_log "part 2: real ENOSPC on a tmpfs"
    # 1 MiB: less than the control block (12 MiB); if a store cannot start there, a tmpfs
    # that holds the control block and ~1.5 MiB more.
    enospc 1m || enospc 14m
fi

rel_summary "limited_commits_failed=$limit_fails enospc_failures=$enospc"
rel_exit
