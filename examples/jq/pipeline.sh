#!/usr/bin/env bash
# A jq pipeline: raw events in, a filtered and reshaped topic out, and a per-user count.
set -euo pipefail
export PIPEPROC_LOCATION=${PIPEPROC_LOCATION:-$(mktemp -d)/jq-store}
cat <<'EVENTS' | pp-commit -t events -q
{"user":"ana","action":"login","ms":12}
{"user":"bo","action":"view","ms":80}
{"user":"ana","action":"view","ms":310}
{"user":"cy","action":"view","ms":450}
EVENTS
# Slow views, reshaped, into their own topic (one atomic batch).
pp-range events --format body |
  jq -c 'select(.action == "view" and .ms > 100) | {user, slow_ms: .ms}' |
  pp-commit -t slow-views --atomic -q
pp-range slow-views --format body
# Views per user.
pp-range events --format body | jq -s -c 'map(select(.action == "view")) | group_by(.user) | map({(.[0].user): length}) | add'
