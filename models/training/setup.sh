#!/usr/bin/env bash
# Creates models/training/.venv and installs the pinned requirements.
# Idempotent: a stamp holding the hash of requirements.txt skips the install when nothing changed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null 2>&1 || python=python3

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
# mlflow replaced mlflow-skinny (both install the `mlflow` package): never keep the two side by side.
"$venv/bin/python" -m pip uninstall --disable-pip-version-check -q -y mlflow-skinny >/dev/null 2>&1 || true
"$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$here/requirements.txt"
echo "$want" > "$stamp"
echo "setup: installed requirements into $venv"
