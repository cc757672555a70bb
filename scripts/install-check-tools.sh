#!/usr/bin/env bash
# Installs the API and dependency checkers into <repo>/.tools/check-venv, pinned with every
# dependency (scripts/check-tools.requirements.txt), binary wheels only:
#   schemathesis   fuzzes a real gateway against its own /openapi.json (packages/gateway/test/openapi-fuzz.test.ts)
#   pip-audit      audits the training requirements for known vulnerabilities (scripts/audit.mjs)
# Idempotent: a stamp holding the hash of the requirements file (and the Python used) skips the
# install when nothing changed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV="${ORTLINE_TOOLS_DIR:-$ROOT/.tools}/check-venv"
REQ="$ROOT/scripts/check-tools.requirements.txt"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null 2>&1 || python=python3
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
  echo "install-check-tools: $python is older than 3.10 (schemathesis needs 3.10+); set PYTHON" >&2
  exit 1
}

want="$( (sha256sum "$REQ" | cut -d' ' -f1; "$python" -c 'import sys; print(sys.version)') | sha256sum | cut -d' ' -f1)"
stamp="$VENV/.requirements.sha256"
if [ -x "$VENV/bin/schemathesis" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
rm -rf "$VENV"
"$python" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps --only-binary=:all: -r "$REQ"
"$VENV/bin/pip" check >/dev/null || { "$VENV/bin/pip" check >&2; echo "install-check-tools: pinned set is inconsistent" >&2; exit 1; }
echo "$want" >"$stamp"
echo "install-check-tools: installed $(grep -cv '^#' "$REQ") packages into $VENV" >&2
