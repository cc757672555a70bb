#!/usr/bin/env bash
# Runs every check and test suite: set-up (scripts/setup-dev.sh), lint first (scripts/lint.sh: any
# finding fails the run), then the Rust core (cargo test), the training pipeline (pytest), the
# TypeScript packages end to end (vitest: real ONNX Runtime, real servers on loopback).
# Ends with one summary line over all suites: "total: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

bash scripts/setup-dev.sh || { echo "test: set-up failed (scripts/setup-dev.sh)" >&2; exit 1; }

echo "== lint (scripts/lint.sh)"
bash scripts/lint.sh 2>&1 | tee "$OUT/lint.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "test: lint failed; fix the findings (bash scripts/lint.sh --fix applies the formatters)" >&2; exit 1; }

ORT_LIB="$ROOT/packages/scorer/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"
status=0

echo "== cargo test (crates/)"
ORT_DYLIB_PATH="$ORT_LIB" cargo test --workspace --release 2>&1 | tee "$OUT/cargo.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo "== pytest (models/training)"
bash models/training/test.sh 2>&1 | tee "$OUT/pytest.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo "== vitest (packages/, bench/)"
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$OUT/vitest.json"
[ $? -eq 0 ] || status=1

node scripts/summary.mjs "$OUT/cargo.log" "$OUT/pytest.log" "$OUT/vitest.json" || status=1
exit $status
