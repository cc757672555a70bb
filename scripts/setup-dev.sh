#!/usr/bin/env bash
# Everything the checks and tests need, on top of what serving needs; scripts/test.sh runs it first.
# Idempotent: each step skips what is already there at the pinned version.
#   scripts/setup.sh                       pnpm, Node packages (Biome, TypeScript), the addon, builds
#   models/training/setup.sh               the training venv (scikit-learn, LightGBM, ONNX tools, pytest, Ruff)
#   bench/peers/fastapi/setup.sh           the FastAPI peer the benchmark suite compares against
#   scripts/install-debian-packages.sh     redis-server, wrk, libgomp1 (LightGBM)
#   scripts/install-deploy-tools.sh        helm, kube-score, kubernetes-validate, hadolint (.tools/)
#   scripts/install-check-tools.sh         schemathesis, pip-audit (.tools/check-venv)
#   scripts/install-kafka.sh               Apache Kafka's broker from Maven Central (.tools/kafka)
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
bash scripts/setup.sh
bash models/training/setup.sh
bash bench/peers/fastapi/setup.sh
bash scripts/install-debian-packages.sh
bash scripts/install-deploy-tools.sh
bash scripts/install-check-tools.sh
bash scripts/install-kafka.sh
echo "setup-dev: ready in $(($(date +%s) - started)) s" >&2
