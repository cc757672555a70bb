"""The model repository layout: models/<name>/<version>/, and which version is active."""

from __future__ import annotations

import os
from pathlib import Path

TRAINING_DIR = Path(__file__).resolve().parent.parent  # models/training
MODELS_DIR = TRAINING_DIR.parent  # models
REPO_ROOT = MODELS_DIR.parent
MODEL_NAME = "churn"
ACTIVE_FILE = "ACTIVE"
DEFAULT_DATA = TRAINING_DIR / "data" / "telco-churn.csv"


def versions(model_dir: Path) -> list[int]:
    """Numeric version directories, ascending. Anything else in the directory is ignored."""
    if not model_dir.is_dir():
        return []
    return sorted(
        int(p.name) for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit() and str(int(p.name)) == p.name
    )


def active_version(model_dir: Path) -> int:
    """The version in the ACTIVE file when there is one (it must exist), else the highest number."""
    pointer = model_dir / ACTIVE_FILE
    if pointer.exists():
        text = pointer.read_text().strip()
        if not text.isdigit() or not (model_dir / text).is_dir():
            raise ValueError(f"{pointer}: {text!r} is not an existing numeric version of {model_dir}")
        return int(text)
    found = versions(model_dir)
    if not found:
        raise FileNotFoundError(f"no numeric version directories under {model_dir}")
    return found[-1]


def next_version(model_dir: Path) -> int:
    found = versions(model_dir)
    return found[-1] + 1 if found else 1


def relative_to_root(path: Path) -> str:
    """A path as seen from the repository root, with forward slashes (models/training/data/... for the data)."""
    # abspath, not resolve(): a symlinked data directory keeps the path the user gave.
    return Path(os.path.relpath(os.path.abspath(path), REPO_ROOT)).as_posix()
