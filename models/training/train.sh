#!/usr/bin/env bash
# Trains, exports and documents the churn model: one command from a fresh clone.
#   bash models/training/train.sh                # -> models/churn/<next version>/
#   bash models/training/train.sh --version 1    # rewrite version 1 (same data + seed: same files)
#   bash models/training/train.sh --fast         # small grid, 3 folds, into a temp dir (CI)
#   bash models/training/train.sh --out DIR      # anywhere
# Other flags: --data CSV, --seed N, --no-mlflow, --created ISO. Exit 3: the data failed validation.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/setup.sh"
# One BLAS/OpenMP thread: reproducible sums, and the machine is shared.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" PYTHONHASHSEED=0
exec "$here/.venv/bin/python" -m churn_training.train "$@"
