"""The committed model repository: models/churn/<version> is consistent, and the routing rule."""

from __future__ import annotations

import json

import pytest
from artifact_checks import check_version_dir
from churn_training.repository import MODELS_DIR, REPO_ROOT, active_version, next_version, routing, versions
from churn_training.schema import load_validated, to_frames
from churn_training.train import SEED, TEST_SIZE, sha256_file
from sklearn.model_selection import train_test_split

CHURN = MODELS_DIR / "churn"


@pytest.fixture(scope="module")
def committed():
    version = active_version(CHURN)
    return version, check_version_dir(CHURN / str(version), version)


def test_every_committed_version_is_consistent():
    found = versions(CHURN)
    assert found, f"no versions under {CHURN}"
    for version in found:
        check_version_dir(CHURN / str(version), version)


def test_the_active_model_meets_the_target(committed):
    _, card = committed
    assert card["training"]["fast"] is False
    assert card["metrics"]["test"]["roc_auc"] >= 0.84
    assert card["metrics"]["test"]["roc_auc"] >= card["metrics"]["baseline"]["roc_auc"]


def test_the_active_model_was_trained_on_the_current_data(committed, data_path):
    _, card = committed
    assert card["training_data"]["sha256"] == sha256_file(data_path), "the data changed since training: retrain"
    assert card["training_data"]["path"] == "models/training/data/telco-churn.csv"


def test_parity_file_holds_every_blank_total_charges_test_row(committed, data_path):
    version, card = committed
    raw, _ = load_validated(data_path)
    X, y, ids = to_frames(raw)
    _, X_test = train_test_split(X, test_size=TEST_SIZE, stratify=y, random_state=card["training"]["seed"])
    blank = set(ids[X_test.index[X_test["TotalCharges"].isna()]])
    parity = json.loads((CHURN / str(version) / "parity.json").read_text())
    assert blank <= {r["customerID"] for r in parity["rows"]}
    assert card["training"]["seed"] == SEED


CASES = json.loads((REPO_ROOT / "testdata" / "routing.json").read_text())["cases"]


def build_tree(root, case):
    """The case's directory tree: versions with a model.onnx, empty directories, an ACTIVE file."""
    for name in case["versions"]:
        (root / name).mkdir()
        (root / name / "model.onnx").write_bytes(b"")
    for name in case.get("empty", []):
        (root / name).mkdir()
    if "active_file" in case:
        (root / "ACTIVE").write_text(case["active_file"])
    if "serving_file" in case:
        (root / "serving.json").write_text(case["serving_file"])
    return root


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_shared_routing_rule(tmp_path, case):
    """The same cases the gateway's tests run (testdata/routing.json)."""
    repo = build_tree(tmp_path, case)
    expect = case["expect"]
    if expect.get("error"):
        with pytest.raises(ValueError):
            routing(repo)
        return
    assert [str(v) for v in versions(repo)] == expect["versions"]
    if not expect["versions"]:
        with pytest.raises(FileNotFoundError):
            routing(repo)
    else:
        assert routing(repo) == expect["routing"]
        assert str(active_version(repo)) == expect["routing"]["active"]


def test_next_version_skips_every_version_directory(tmp_path):
    repo = build_tree(tmp_path, {"versions": ["1", "2"], "empty": ["3", "05"]})
    assert next_version(repo) == 4
    assert next_version(tmp_path / "absent") == 1
