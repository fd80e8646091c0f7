#!/usr/bin/env bash
# run.sh [--long] [--seed N] [--keep] [SCRIPT...]: run the reliability harness (crash,
# corruption, diskfull, soak, badinput; or the SCRIPTs named), print a summary and exit
# non-zero if any check failed. Quick mode (the default) takes about 3 minutes on 2 cores;
# --long takes hours (see README.md). One seed is drawn (or given) and passed to every
# script, so `run.sh --seed N` replays a run.

here="$(cd "$(dirname "$0")" && pwd)"
opts=()
scripts=()
seed=""
while (($#)); do
    case $1 in
    --long | --keep) opts+=("$1") ;;
    --seed) seed=$2; shift ;;
    --seed=*) seed=${1#--seed=} ;;
    -h | --help) sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option '$1'" >&2; exit 2 ;;
    *) scripts+=("$1") ;;
    esac
    shift
done
((${#scripts[@]})) || scripts=(crash corruption diskfull soak badinput)
[[ -n $seed ]] || seed=$(((RANDOM << 15) | RANDOM))
export PP_REL_SUMMARY
PP_REL_SUMMARY=$(mktemp "${TMPDIR:-/tmp}/pp-rel-summary.XXXXXX")
trap 'rm -f "$PP_REL_SUMMARY"' EXIT

echo "reliability run: ${scripts[*]} ($([[ " ${opts[*]} " == *" --long "* ]] && echo long || echo quick) mode, seed $seed)"
start=$(date +%s)
failed=()
for s in "${scripts[@]}"; do
    s=${s%.sh}
    if [[ ! -x $here/$s.sh ]]; then
        echo "run.sh: no script $s.sh" >&2
        failed+=("$s")
        continue
    fi
    echo "=== $s"
    rc=0
    "$here/$s.sh" "${opts[@]}" --seed "$seed" || rc=$?
    ((rc == 0)) || failed+=("$s")
    grep -q "^RESULT $s " "$PP_REL_SUMMARY" || echo "RESULT $s failures=? (exit $rc, no result line)" >>"$PP_REL_SUMMARY"
done

echo
echo "=== summary ($(($(date +%s) - start)) s, seed $seed; replay: $0 ${opts[*]} --seed $seed)"
while read -r _ name rest; do
    printf '%-11s %s\n' "$name" "$rest"
done <"$PP_REL_SUMMARY"
if ((${#failed[@]})); then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
echo "all passed"
