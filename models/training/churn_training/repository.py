"""The model repository layout: models/<name>/<version>/, and which versions take traffic."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

TRAINING_DIR = Path(__file__).resolve().parent.parent  # models/training
MODELS_DIR = TRAINING_DIR.parent  # models
REPO_ROOT = MODELS_DIR.parent
MODEL_NAME = "churn"
ACTIVE_FILE = "ACTIVE"
SERVING_FILE = "serving.json"
DEFAULT_DATA = TRAINING_DIR / "data" / "telco-churn.csv"


# The rule is shared with the gateway (packages/gateway/src/registry/repository.ts) and pinned by
# testdata/routing.json, which both test suites run.
VERSION_NAME = re.compile(r"[1-9][0-9]*")


def version_dirs(model_dir: Path) -> list[int]:
    """Directories named as versions (a positive integer, no leading zeros), with or without a model."""
    if not model_dir.is_dir():
        return []
    return sorted(int(p.name) for p in model_dir.iterdir() if p.is_dir() and VERSION_NAME.fullmatch(p.name))


def versions(model_dir: Path) -> list[int]:
    """The versions, ascending: version directories that hold model.onnx. Anything else is ignored."""
    return [v for v in version_dirs(model_dir) if (model_dir / str(v) / "model.onnx").is_file()]


def _version_name(value: object, field: str, where: Path) -> str:
    """A version as written in serving.json: its directory name, or the same as a JSON integer."""
    # bool is an int in Python; JSON's true is not a version.
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    if isinstance(value, str) and VERSION_NAME.fullmatch(value):
        return value
    raise ValueError(f"{where}: {field!r} must be a version (a positive integer without leading zeros), got {value!r}")


def _parse_serving(path: Path, found: list[str]) -> dict:
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not JSON ({err})") from err
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: must be a JSON object with 'active'")
    unknown = set(raw) - {"active", "previous", "canary", "shadow"}
    if unknown:
        raise ValueError(f"{path}: unknown field(s) {sorted(unknown)}")
    if "active" not in raw:
        raise ValueError(f"{path}: 'active' is required")
    routing = {
        "active": _version_name(raw["active"], "active", path),
        "previous": None if raw.get("previous") is None else _version_name(raw["previous"], "previous", path),
        "canary": None,
        "shadow": None if raw.get("shadow") is None else _version_name(raw["shadow"], "shadow", path),
    }
    canary = raw.get("canary")
    if canary is not None:
        if not isinstance(canary, dict) or set(canary) - {"version", "weight"}:
            raise ValueError(f"{path}: 'canary' must be null or {{'version', 'weight'}}, got {canary!r}")
        weight = canary.get("weight")
        if (
            isinstance(weight, bool)
            or not isinstance(weight, (int, float))
            or not (0 <= weight <= 1)
            or math.isnan(weight)
        ):
            raise ValueError(f"{path}: 'canary.weight' must be a number from 0 to 1, got {weight!r}")
        routing["canary"] = {"version": _version_name(canary.get("version"), "canary.version", path), "weight": weight}
    canary_version = routing["canary"]["version"] if routing["canary"] else None
    for field, version in (
        ("active", routing["active"]),
        ("canary.version", canary_version),
        ("shadow", routing["shadow"]),
    ):
        if version is not None and version not in found:
            raise ValueError(f"{path}: {field!r} names version {version}, which is not a version (versions: {found})")
    if canary_version == routing["active"] or routing["shadow"] == routing["active"]:
        raise ValueError(f"{path}: the canary and the shadow must differ from the active version {routing['active']}")
    if routing["shadow"] is not None and routing["shadow"] == canary_version:
        raise ValueError(f"{path}: version {canary_version} cannot be both canary and shadow")
    return routing


def routing(model_dir: Path) -> dict:
    """Which versions take traffic: serving.json when present (an ACTIVE file is then ignored),
    else the version the ACTIVE file names (trimmed, spelled as its directory), else the highest."""
    found = [str(v) for v in versions(model_dir)]
    if not found:
        raise FileNotFoundError(f"no version directories with model.onnx under {model_dir}")
    serving = model_dir / SERVING_FILE
    if serving.exists():
        return _parse_serving(serving, found)
    active = found[-1]
    pointer = model_dir / ACTIVE_FILE
    if pointer.exists():
        active = pointer.read_text().strip()
        if not VERSION_NAME.fullmatch(active) or active not in found:
            raise ValueError(f"{pointer}: {active!r} is not a version of {model_dir} (versions: {found})")
    return {"active": active, "previous": None, "canary": None, "shadow": None}


def active_version(model_dir: Path) -> int:
    """The version that answers when a request names none."""
    return int(routing(model_dir)["active"])


def next_version(model_dir: Path) -> int:
    """One above every version directory, including any without a model yet (never reused)."""
    found = version_dirs(model_dir)
    return found[-1] + 1 if found else 1


def relative_to_root(path: Path) -> str:
    """A path as seen from the repository root, with forward slashes (models/training/data/... for the data)."""
    # abspath, not resolve(): a symlinked data directory keeps the path the user gave.
    return Path(os.path.relpath(os.path.abspath(path), REPO_ROOT)).as_posix()
