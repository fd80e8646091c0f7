#!/usr/bin/env bash
# A demo pipeline on an embedded store: commit JSON lines, read them back, transform them
# with a shell filter into a second topic, and verify the store.
set -euo pipefail
bin=${1:-build/bin}
export PATH="$(cd "$bin" && pwd):$PATH"
store=$(mktemp -d "${TMPDIR:-/tmp}/pipeproc-demo.XXXXXX")
export PIPEPROC_LOCATION="$store/store"
trap 'rm -rf "$store"' EXIT
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

say "pp-commit -t orders (5 JSON lines on stdin)"
for i in 1 2 3 4 5; do printf '{"order":%d,"amount":%d}\n' "$i" $((i * 10)); done | pp-commit -t orders

say "pp-range orders"
pp-range orders

say "pp-range orders -s :1 -e :3 --format body | (a shell filter) | pp-commit -t big-orders"
pp-range orders -s :1 -e :3 --format body | sed 's/"amount"/"big":true,"amount"/' | pp-commit -t big-orders

say "pp-range big-orders --reverse"
pp-range big-orders --reverse

say "envelopes: one atomic batch across two topics"
printf '%s\n' '{"topic":"audit","body":{"event":"refund","order":2}}' \
              '{"topic":"orders","body":{"order":6,"amount":5}}' | pp-commit --atomic

say "pp-length orders; pp-length audit"
pp-length orders
pp-length audit

say "pp-check"
pp-check
