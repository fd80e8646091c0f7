#!/usr/bin/env bats
# Crash tests: writers killed with SIGKILL at random moments. Afterwards the store must be
# clean (pp-check), every commit all-or-nothing across topics, sequences dense, every id a
# writer reported readable, and the store usable by the next writer at once.
# PP_CRASH_SEED=N replays a run; PP_CRASH_ITERATIONS=N changes the loop count.

load helpers

setup() {
    pp_setup
    seed=${PP_CRASH_SEED:-$(((RANDOM << 15) | RANDOM))}
    RANDOM=$seed
    echo "# crash seed: $seed (PP_CRASH_SEED=$seed replays it)"
}

# random_sleep: 10-200 ms.
random_sleep() {
    sleep "0.$(printf '%03d' $((RANDOM % 191 + 10)))"
}

# start_group CMD...: run CMD as its own process group (its children included), detached
# from this shell so that its death by SIGKILL is not reported as a job; sets $group.
start_group() {
    group=$(setsid "$@" </dev/null >/dev/null 2>&1 3>&- & echo $!)
    PP_BG_GROUPS+=("$group")
}

# kill_group: SIGKILL the whole group, then wait until none of it is left.
kill_group() {
    kill -9 -- "-$group" 2>/dev/null || true
    wait_until 5 group_gone "$group"
}

# group_gone PGID: no process of the group is left but zombies (which hold no locks and
# write nothing; a container's init may be slow to reap them).
group_gone() {
    if command -v ps >/dev/null; then
        ! ps -o stat= -s "$1" | grep -qv '^Z'
    else
        ! kill -0 -- "-$1" 2>/dev/null
    fi
}

# The writer: an endless loop of --atomic batches, batch K = one log {"batch":K} in each of
# a, b and c; appends the ids each pp-commit prints to IDS.
write_writer() {
    cat >"$BATS_TEST_TMPDIR/writer.sh" <<'EOF'
k=$1 ids=$2
while :; do
    printf '{"topic":"a","body":{"batch":%d}}\n{"topic":"b","body":{"batch":%d}}\n{"topic":"c","body":{"batch":%d}}\n' "$k" "$k" "$k" |
        pp-commit --atomic >>"$ids" || { echo "pp-commit exited $?" >"$ids.failed"; exit 1; }
    k=$((k + 1))
done
EOF
}

# verify_abc IDS K0: the invariants after one kill of a writer that started at batch K0.
verify_abc() {
    local ids_f=$1 k0=$2 dir="$BATS_TEST_TMPDIR/verify" t
    mkdir -p "$dir"
    rm -f "$dir"/*
    [[ ! -e $ids_f.failed ]] || pp_fail "the writer saw pp-commit fail: $(cat "$ids_f.failed")"
    ok pp-check
    # No lock or half-done state is left behind: the next writer gets through at once.
    ok timeout 10 pp-commit -q -t probe '"probe"'
    la=$(topic_length_or_none a)
    lb=$(topic_length_or_none b)
    lc=$(topic_length_or_none c)
    expect_eq "$la $la" "$lb $lc" "lengths of a, b and c (a batch partly visible?)"
    # Complete lines only: the writer may have died in the middle of printing.
    head -n "$(line_count "$ids_f")" "$ids_f" >"$dir/printed"
    if [[ $la == none ]]; then
        expect_eq "" "$(cat "$dir/printed")" "ids printed although nothing is stored"
        return 0
    fi
    for t in a b c; do
        pp-range "$t" --format id >"$dir/ids.$t"
        ids_dense "$dir/ids.$t" || pp_fail "sequences of $t are not dense 0..n-1"
        expect_eq "$la" "$(line_count "$dir/ids.$t")" "logs printed by pp-range $t"
        pp-range "$t" --format body >"$dir/bodies.$t"
        pp-range "$t" >"$dir/logs.$t"
    done
    cmp "$dir/bodies.a" "$dir/bodies.b" || pp_fail "bodies of a and b do not line up"
    cmp "$dir/bodies.a" "$dir/bodies.c" || pp_fail "bodies of a and c do not line up"
    awk '
        !/^\{"batch":[0-9]+\}$/ { printf "bad body at line %d: %s\n", NR, $0; exit 1 }
        { k = substr($0, 10) + 0; if (NR > 1 && k <= last) { printf "batch %d after %d\n", k, last; exit 1 }; last = k }
    ' "$dir/bodies.a" >&2 || pp_fail "bodies of a are not increasing batches"
    # Every id the writer printed is stored, with its batch's body: line i (from 0) of the
    # printed ids is topic a, b, c for i mod 3, batch K0 + i/3.
    awk -v k0="$k0" -v dir="$dir" '
        { t = substr("abc", (NR - 1) % 3 + 1, 1)
          printf "{\"id\":\"%s\",\"body\":{\"batch\":%d}}\n", $0, k0 + int((NR - 1) / 3) > (dir "/want." t) }
    ' "$dir/printed"
    for t in a b c; do
        [[ -e $dir/want.$t ]] || continue
        missing=$(comm -23 <(sort "$dir/want.$t") <(sort "$dir/logs.$t"))
        expect_eq "" "$missing" "logs the writer reported for $t but that are not stored"
    done
}

@test "kill -9 during --atomic multi-topic batches: a batch is all there or not at all" {
    write_writer
    iterations=${PP_CRASH_ITERATIONS:-30}
    committed=0
    for ((iter = 1; iter <= iterations; iter++)); do
        ids="$BATS_TEST_TMPDIR/ids.$iter"
        : >"$ids"
        k0=$((iter * 100000))
        start_group bash "$BATS_TEST_TMPDIR/writer.sh" "$k0" "$ids"
        random_sleep
        kill_group
        verify_abc "$ids" "$k0"
        committed=$(topic_length_or_none a)
    done
    echo "# $committed batches survived $iterations kills"
    [[ $committed != none && $committed -gt 0 ]] || pp_fail "no batch was ever committed: the test proved nothing"
}

@test "kill -9 during a streamed (non-atomic) multi-topic input: the store holds a prefix of it" {
    seq 0 19999 | awk '{ for (t = 0; t < 3; t++) printf "{\"topic\":\"%s\",\"body\":{\"i\":%d}}\n", substr("abc", t + 1, 1), $1 }' \
        >"$BATS_TEST_TMPDIR/input"
    iterations=${PP_CRASH_ITERATIONS:-10}
    for ((iter = 1; iter <= iterations; iter++)); do
        export PIPEPROC_LOCATION="$BATS_TEST_TMPDIR/store.$iter"
        ids="$BATS_TEST_TMPDIR/ids.$iter"
        # A producer that writes line by line, like `tail -f`: many small batches.
        start_group bash -c 'while IFS= read -r l; do printf "%s\n" "$l"; done <"$1" | pp-commit >"$2"' \
            sh "$BATS_TEST_TMPDIR/input" "$ids"
        random_sleep
        kill_group
        ok pp-check
        ok timeout 10 pp-commit -q -t probe '"probe"'
        la=$(topic_length_or_none a)
        lb=$(topic_length_or_none b)
        lc=$(topic_length_or_none c)
        [[ $la == none ]] && la=0
        [[ $lb == none ]] && lb=0
        [[ $lc == none ]] && lc=0
        # A prefix of the interleaved input a, b, c, a, b, c, ...
        ((la >= lb && lb >= lc && la - lc <= 1)) ||
            pp_fail "lengths a=$la b=$lb c=$lc are not a prefix of the input"
        for t in a b c; do
            var=l$t
            n=${!var}
            ((n > 0)) || continue
            pp-range "$t" --format id >"$BATS_TEST_TMPDIR/ids.$t"
            ids_dense "$BATS_TEST_TMPDIR/ids.$t" || pp_fail "sequences of $t are not dense"
            pp-range "$t" --format body >"$BATS_TEST_TMPDIR/bodies.$t"
            cmp "$BATS_TEST_TMPDIR/bodies.$t" <(seq 0 $((n - 1)) | awk '{ printf "{\"i\":%d}\n", $1 }') ||
                pp_fail "topic $t does not hold the first $n bodies of its input"
        done
        # Every printed id is stored: printed line j (from 0) is the id of input line j,
        # topic a, b, c for j mod 3, sequence j / 3.
        printed=$(line_count "$ids")
        ((printed <= la + lb + lc)) || pp_fail "$printed ids printed, but only $((la + lb + lc)) logs stored"
        head -n "$printed" "$ids" | awk -F- '$2 != int((NR - 1) / 3) { printf "printed id %d is %s\n", NR, $0; exit 1 }' >&2 ||
            pp_fail "the printed ids do not match the input lines"
        echo "# iteration $iter: a=$la b=$lb c=$lc, $printed ids printed"
    done
}

@test "kill -9 during one large --atomic batch: all of it or none of it" {
    # 3 x 40000 logs, 12 MB: long enough to be killed while writing it.
    seq 0 39999 | awk '{ for (t = 0; t < 3; t++) printf "{\"topic\":\"%s\",\"body\":{\"i\":%d,\"pad\":\"%s\"}}\n", substr("abc", t + 1, 1), $1, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" }' \
        >"$BATS_TEST_TMPDIR/input"
    iterations=${PP_CRASH_ITERATIONS:-10}
    whole=0
    for ((iter = 1; iter <= iterations; iter++)); do
        export PIPEPROC_LOCATION="$BATS_TEST_TMPDIR/store.$iter"
        start_group sh -c 'exec pp-commit --atomic -q <"$1"' sh "$BATS_TEST_TMPDIR/input"
        random_sleep
        kill_group
        ok pp-check
        la=$(topic_length_or_none a)
        lb=$(topic_length_or_none b)
        lc=$(topic_length_or_none c)
        [[ $la == none ]] && la=0
        [[ $lb == none ]] && lb=0
        [[ $lc == none ]] && lc=0
        expect_eq "$la $la $la" "$lb $lc $la" "lengths of a, b, c"
        [[ $la == 0 || $la == 40000 ]] || pp_fail "a holds $la of the batch's 40000 logs"
        ((la == 0)) || whole=$((whole + 1))
        ok timeout 10 pp-commit -q -t a '"after"'
        expect_eq "$la" "$(pp-range a -s :$la --format id | cut -d- -f2)" "sequence of the next commit"
    done
    echo "# the batch was whole in $whole of $iterations runs, absent in the others"
}

@test "kill -9 during --atomic batches with small segments: rolls do not break atomicity" {
    # PIPEPROC_SEGMENT_BYTES is the writer's test hook (not part of the contract): tiny
    # segments make a kill during a segment roll likely.
    export PIPEPROC_SEGMENT_BYTES=1024
    write_writer
    iterations=${PP_CRASH_ITERATIONS:-15}
    for ((iter = 1; iter <= iterations; iter++)); do
        ids="$BATS_TEST_TMPDIR/ids.$iter"
        : >"$ids"
        k0=$((iter * 100000))
        start_group bash "$BATS_TEST_TMPDIR/writer.sh" "$k0" "$ids"
        random_sleep
        kill_group
        verify_abc "$ids" "$k0"
    done
    nseg=$(segments a | wc -l)
    echo "# $(pp-length a) batches in $nseg segment files of a"
    ((nseg >= 2)) || skip "PIPEPROC_SEGMENT_BYTES is not honoured ($nseg segment file)"
}
