"""The model repository layout: models/<name>/<version>/, and which version is active."""

from __future__ import annotations

import os
import re
from pathlib import Path

TRAINING_DIR = Path(__file__).resolve().parent.parent  # models/training
MODELS_DIR = TRAINING_DIR.parent  # models
REPO_ROOT = MODELS_DIR.parent
MODEL_NAME = "churn"
ACTIVE_FILE = "ACTIVE"
DEFAULT_DATA = TRAINING_DIR / "data" / "telco-churn.csv"


# The rule is shared with the gateway (packages/gateway/src/registry/repository.ts) and pinned by
# testdata/active-version.json, which both test suites run.
VERSION_NAME = re.compile(r"[1-9][0-9]*")


def version_dirs(model_dir: Path) -> list[int]:
    """Directories named as versions (a positive integer, no leading zeros), with or without a model."""
    if not model_dir.is_dir():
        return []
    return sorted(int(p.name) for p in model_dir.iterdir() if p.is_dir() and VERSION_NAME.fullmatch(p.name))


def versions(model_dir: Path) -> list[int]:
    """The versions, ascending: version directories that hold model.onnx. Anything else is ignored."""
    return [v for v in version_dirs(model_dir) if (model_dir / str(v) / "model.onnx").is_file()]


def active_version(model_dir: Path) -> int:
    """The version the ACTIVE file names (trimmed, spelled as its directory), else the highest."""
    found = versions(model_dir)
    pointer = model_dir / ACTIVE_FILE
    if pointer.exists():
        text = pointer.read_text().strip()
        if not VERSION_NAME.fullmatch(text) or int(text) not in found:
            raise ValueError(f"{pointer}: {text!r} is not a version of {model_dir} (versions: {found})")
        return int(text)
    if not found:
        raise FileNotFoundError(f"no version directories with model.onnx under {model_dir}")
    return found[-1]


def next_version(model_dir: Path) -> int:
    """One above every version directory, including any without a model yet (never reused)."""
    found = version_dirs(model_dir)
    return found[-1] + 1 if found else 1


def relative_to_root(path: Path) -> str:
    """A path as seen from the repository root, with forward slashes (models/training/data/... for the data)."""
    # abspath, not resolve(): a symlinked data directory keeps the path the user gave.
    return Path(os.path.relpath(os.path.abspath(path), REPO_ROOT)).as_posix()
