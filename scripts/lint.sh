#!/usr/bin/env bash
# Every static check, each over the whole repository; exits non-zero on any finding:
#   Biome            lint + format of TypeScript and JavaScript (biome.jsonc)
#   tsc --noEmit     type check of sources and tests together (tsconfig.json), and of the
#                    console's browser code (packages/console/tsconfig.json)
#   cargo fmt        format of the Rust workspace (rustfmt.toml)
#   cargo clippy     Rust lints, all targets, warnings are errors
#   Ruff             lint + format of Python (ruff.toml), from the training venv
# Installs nothing: run `bash scripts/setup-dev.sh` first (scripts/test.sh does).
# To apply the fixers instead of checking: bash scripts/lint.sh --fix
set -uo pipefail
cd "$(dirname "$0")/.."

fix=0
[ "${1:-}" = "--fix" ] && fix=1
RUFF=models/training/.venv/bin/ruff
failed=()

step() { # name, command...
  local name=$1
  shift
  echo "== lint: $name" >&2
  "$@" || failed+=("$name")
}

[ -x node_modules/.bin/biome ] && [ -x "$RUFF" ] || {
  echo "lint: tools missing (node_modules/.bin/biome, $RUFF); run: bash scripts/setup-dev.sh" >&2
  exit 2
}

if [ "$fix" -eq 1 ]; then
  step biome pnpm exec biome check --write .
  step rustfmt cargo fmt --all
  step ruff-fix "$RUFF" check --fix .
  step ruff-format "$RUFF" format .
else
  step biome pnpm exec biome ci --error-on-warnings .
  step rustfmt cargo fmt --all --check
  step ruff "$RUFF" check --output-format=concise .
  step ruff-format "$RUFF" format --check .
fi
step tsc pnpm exec tsc -p tsconfig.json
step tsc-console pnpm exec tsc -p packages/console/tsconfig.json
step clippy cargo clippy --workspace --all-targets --quiet -- -D warnings

if [ ${#failed[@]} -gt 0 ]; then
  echo "lint: failed: ${failed[*]}" >&2
  exit 1
fi
echo "lint: all checks passed" >&2
