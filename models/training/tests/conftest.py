"""Shared fixtures. Broken data files are written to pytest's tmp dirs; nothing here touches models/churn."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

TRAINING_DIR = Path(__file__).resolve().parent.parent
if str(TRAINING_DIR) not in sys.path:
    sys.path.insert(0, str(TRAINING_DIR))

from churn_training.repository import DEFAULT_DATA  # noqa: E402

DATA = Path(os.environ.get("ORTLINE_CHURN_DATA", DEFAULT_DATA))


@pytest.fixture(scope="session")
def data_path() -> Path:
    assert DATA.is_file(), f"training data not found at {DATA} (set ORTLINE_CHURN_DATA)"
    return DATA


@pytest.fixture(scope="session")
def data_rows(data_path) -> tuple[list[str], list[list[str]]]:
    with open(data_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run_train(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """train.sh as CI runs it (set-up check included)."""
    return subprocess.run(
        ["bash", str(TRAINING_DIR / "train.sh"), *args],
        capture_output=True,
        check=False,  # the exit code is what the test asserts
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


@pytest.fixture(scope="session")
def fast_run(tmp_path_factory, data_path):
    """One fast end-to-end training run through train.sh, logged to a throwaway MLflow store."""
    base = tmp_path_factory.mktemp("fast")
    out = base / "churn" / "1"
    mlruns = base / "mlruns"
    proc = run_train(
        "--fast", "--out", str(out), "--data", str(data_path), env={"MLFLOW_TRACKING_URI": mlruns.as_uri()}
    )
    assert proc.returncode == 0, f"fast training failed:\n{proc.stdout}\n{proc.stderr}"
    return {"out": out, "mlruns": mlruns, "proc": proc}
