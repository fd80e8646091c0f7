#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/CMakeLists.txt) in a separate clang build and
# runs each for SECONDS (default 30) on a copy of its seed corpus (corpus/<target>/; the
# seeds are not changed). Prints the executions per target; exits 1 if a regression input
# (corpus/<target>/regress-*) still fails or if fuzzing found a crash (its input is kept
# under the build directory, with the command to replay it).
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]
#   FUZZ_BUILD=dir   build directory (default: build-fuzz/ at the repository root)
#   FUZZ_JOBS=n      build jobs (default 2)
#   FUZZ_CXX=clang++-N  the compiler (default clang++)
#   FUZZ_KEEP_GOING=1   fuzz on after a crash (libFuzzer -fork=1 -ignore_crashes=1) and
#                    count the crashes, so that one open bug does not hide the others
set -uo pipefail

secs=${1:-30}
shift || true
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${FUZZ_BUILD:-$repo/build-fuzz}
jobs=${FUZZ_JOBS:-2}
cxx=${FUZZ_CXX:-clang++}
all=(fuzz_jsonl fuzz_json_check fuzz_record fuzz_index fuzz_index_store fuzz_bound fuzz_journal_ops)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all[@]}"); fi

case $secs in
  '' | *[!0-9]*) echo "run.sh: error: SECONDS must be a whole number, not '$secs'" >&2; exit 2 ;;
esac

echo "== configure and build ($build)"
mkdir -p "$build"
if ! cmake -S "$here" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DPIPEPROC_FUZZ=ON >"$build/configure.log" 2>&1; then
  cat "$build/configure.log" >&2
  echo "run.sh: error: configure failed" >&2
  exit 1
fi
if ! cmake --build "$build" -j "$jobs" -- --no-print-directory >/dev/null; then
  cmake --build "$build" -j 1 2>&1 | tail -40 >&2
  echo "run.sh: error: build failed" >&2
  exit 1
fi

runs=$build/runs
failed=()
printf '\n%-18s %12s %10s  %s\n' target executions exec/s result
for t in "${targets[@]}"; do
  bin=$build/bin/$t
  if [ ! -x "$bin" ]; then
    echo "run.sh: error: no fuzz target '$t'" >&2
    failed+=("$t")
    continue
  fi
  dir=$runs/$t
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/tmp" "$dir/crashes"
  cp -r "$here/corpus/$t/." "$dir/corpus/" 2>/dev/null || true
  notes=()
  # Regression inputs first, one by one: one still failing is reported (and the run
  # fails) but is left out of the fuzzing corpus, so the target is fuzzed all the same.
  for reg in "$dir"/corpus/regress-*; do
    [ -e "$reg" ] || continue
    name=$(basename "$reg")
    if ! TMPDIR=$dir/tmp "$bin" -runs=1 "$reg" >"$dir/$name.log" 2>&1; then
      notes+=("regression $name still fails:")
      notes+=("$(grep -E -A1 'FUZZ_CHECK failed|ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' "$dir/$name.log" | head -2 | sed 's/^/  /')")
      notes+=("replay: $bin $here/corpus/$t/$name")
      rm -f "$reg"
    fi
  done
  opts=(-max_total_time="$secs" -print_final_stats=1 -timeout=20 -rss_limit_mb=2048
        -artifact_prefix="$dir/crashes/")
  [ "$t" = fuzz_jsonl ] && opts+=(-max_len=8192)
  [ -f "$here/dict/$t.dict" ] && opts+=(-dict="$here/dict/$t.dict")
  [ "${FUZZ_KEEP_GOING:-0}" = 1 ] && opts+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  TMPDIR=$dir/tmp "$bin" "${opts[@]}" "$dir/corpus" >"$dir/log" 2>&1
  rc=$?
  if [ "${FUZZ_KEEP_GOING:-0}" = 1 ]; then
    # Fork mode: "#N: cov: .. exec/s R oom/timeout/crash: a/b/c time: ..".
    last=$(grep -E '^#[0-9]+: cov:' "$dir/log" | tail -1)
    execs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$last")
    rate=$(sed -E 's/.*exec\/s ([0-9]+).*/\1/' <<<"$last")
    found=$(ls "$dir/crashes" | wc -l)
    [ "$found" -gt 0 ] && rc=1
  else
    execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$dir/log" | tail -1)
    rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$dir/log" | tail -1)
  fi
  if [ $rc -ne 0 ]; then
    # Replay each crash input and group them by the check (or sanitizer report) that fired.
    declare -A seen=()
    order=()
    for a in "$dir"/crashes/*; do
      [ -e "$a" ] || continue
      out=$(TMPDIR=$dir/tmp "$bin" "$a" 2>&1)
      key=$(grep -m1 -E 'FUZZ_CHECK failed at|SUMMARY: |ERROR: libFuzzer' <<<"$out")
      [ -n "$key" ] || key="(no report; see $dir/log)"
      if [ -z "${seen[$key]:-}" ]; then
        order+=("$key")
        seen[$key]="1|$a|$(grep -m1 -A1 -F "$key" <<<"$out" | tail -1)"
      else
        seen[$key]="$(( ${seen[$key]%%|*} + 1 ))|${seen[$key]#*|}"
      fi
    done
    [ ${#order[@]} -eq 0 ] && notes+=("fuzzing failed (exit $rc) without a crash input: see $dir/log")
    for key in "${order[@]}"; do
      IFS='|' read -r count first detail <<<"${seen[$key]}"
      notes+=("fuzzing found $count crash input(s): $key")
      notes+=("  $detail")
      notes+=("replay: $bin $first")
    done
    unset seen
  fi
  if [ ${#notes[@]} -eq 0 ]; then
    result=ok
  else
    result=FAILED
    failed+=("$t")
  fi
  printf '%-18s %12s %10s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$result"
  for n in "${notes[@]}"; do printf '%s\n' "$n" | sed 's/^/    /'; done
  rm -rf "$dir/tmp"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "run.sh: error: ${#failed[@]} target(s) failed: ${failed[*]} (logs under $runs)" >&2
  exit 1
fi
echo "all ${#targets[@]} targets ran ${secs}s without a finding"
