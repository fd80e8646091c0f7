#!/usr/bin/env bash
# A CI job that uses a store as a work queue: the build step commits one log per test
# shard, workers claim shards (in parallel, each exactly once), results are committed
# atomically with each ack, and the job waits until every shard is done.
set -euo pipefail
export PIPEPROC_LOCATION=${PIPEPROC_LOCATION:-$(mktemp -d)/ci-store}
shards=${SHARDS:-8}
workers=${WORKERS:-3}

for i in $(seq 1 "$shards"); do printf '{"shard":%d}\n' "$i"; done | pp-commit -t shards -q

worker() {
  while shard=$(pp-proc shards -n runner --format body) && [ -n "$shard" ]; do
    n=$(printf '%s' "$shard" | sed 's/[^0-9]//g')
    result=$(printf '{"shard":%d,"worker":%d,"ok":true}' "$n" "$1")   # run the shard's tests here
    pp-ack runner --commit -t results "$result" >/dev/null
  done
}
for w in $(seq 1 "$workers"); do worker "$w" & done
wait
pp-wait runner --timeout 10000
echo "results: $(pp-length results) of $shards shards"
[ "$(pp-length results)" -eq "$shards" ]
