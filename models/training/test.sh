#!/usr/bin/env bash
# Runs the training pipeline's tests (validation, ONNX parity, a fast training run, determinism,
# the committed artifacts). Ends with pytest's own summary line ("N passed in Xs"), which CI reads.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/setup.sh"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" PYTHONHASHSEED=0
cd "$here"
exec "$here/.venv/bin/python" -m pytest -p no:cacheprovider "$here/tests" "$@"
