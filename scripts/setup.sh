#!/usr/bin/env bash
# Installs and builds everything serving needs, on a fresh machine or an existing checkout.
# Idempotent: a second run only rebuilds what changed. Needs Node >= 20.19.4, npm, Rust (cargo).
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.8
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm $PNPM_VERSION" >&2
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null
fi
command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust (rustup) first" >&2; exit 1; }

echo "setup: installing Node packages" >&2
pnpm install --frozen-lockfile --reporter=silent

echo "setup: building (Rust addon, TypeScript)" >&2
pnpm -r --filter './packages/**' run build
