#!/usr/bin/env bash
# The main job: installs and builds what serving needs (scripts/setup.sh), then starts the
# gateway on the bundled model repository (models/), port 8080 unless PORT says otherwise.
# Extra arguments go to `ortline serve` (see packages/gateway/CONFIG.md), e.g.
#   bash scripts/serve.sh --log-requests
# Stops gracefully on SIGTERM / Ctrl-C: in-flight requests finish first.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

export PORT="${PORT:-8080}"
export MODELS_DIR="${MODELS_DIR:-$PWD/models}"
# exec: the gateway itself receives SIGTERM, so its drain runs.
exec node packages/cli/bin/ortline.js serve "$@"
