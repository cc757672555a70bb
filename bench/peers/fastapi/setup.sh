#!/usr/bin/env bash
# Creates bench/peers/fastapi/.venv with the pinned requirements (binary wheels only: nothing
# compiles). Idempotent: a stamp holding the hash of requirements.txt (and the Python used) skips
# the install when nothing changed, so the benchmark can call it before every run.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null 2>&1 || python=python3
command -v "$python" >/dev/null 2>&1 || { echo "fastapi setup: no python3 found (need CPython >= 3.11 with venv)" >&2; exit 1; }
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "fastapi setup: $python is older than 3.11 (the pinned numpy needs 3.11+); set PYTHON=python3.11" >&2; exit 1; }

want="$( (sha256sum "$here/requirements.txt" | cut -d' ' -f1; "$python" -c 'import sys; print(sys.version)') | sha256sum | cut -d' ' -f1)"
stamp="$venv/.requirements.sha256"
if [ -x "$venv/bin/uvicorn" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv" || { echo "fastapi setup: '$python -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)" >&2; exit 1; }
fi
"$venv/bin/python" -m pip install --disable-pip-version-check -q --only-binary :all: -r "$here/requirements.txt"
echo "$want" > "$stamp"
echo "fastapi setup: installed requirements into $venv" >&2
