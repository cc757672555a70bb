#!/usr/bin/env bash
# Runs the training pipeline's tests (validation, ONNX parity, a fast training run, determinism,
# the committed artifacts). Ends with pytest's own summary line ("N passed in Xs"), which CI reads.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Installs nothing: the venv comes from setup.sh (scripts/setup-dev.sh runs it). A venv built from
# other requirements would test other library versions than the pinned ones, so it is refused too.
stamp="$here/.venv/.requirements.sha256"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)" ]; then
  echo "training tests: the venv is missing or out of date; run: bash models/training/setup.sh" >&2
  exit 2
fi
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" PYTHONHASHSEED=0
cd "$here"
exec "$here/.venv/bin/python" -m pytest -p no:cacheprovider "$here/tests" "$@"
