"""The committed model repository: models/churn/<version> is consistent, and the active-version rule."""

from __future__ import annotations

import json

import pytest
from artifact_checks import check_version_dir
from churn_training.repository import MODELS_DIR, active_version, next_version, versions
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


def make_repo(tmp_path, names, active=None):
    for name in names:
        (tmp_path / name).mkdir()
    if active is not None:
        (tmp_path / "ACTIVE").write_text(active)
    return tmp_path


def test_active_version_is_the_highest_number(tmp_path):
    repo = make_repo(tmp_path, ["1", "2", "10", "3", "draft", "01"])
    assert versions(repo) == [1, 2, 3, 10]
    assert active_version(repo) == 10
    assert next_version(repo) == 11


def test_active_file_overrides(tmp_path):
    assert active_version(make_repo(tmp_path, ["1", "2", "3"], active="2\n")) == 2


@pytest.mark.parametrize("pointer", ["7", "two", ""])
def test_active_file_must_name_an_existing_version(tmp_path, pointer):
    with pytest.raises(ValueError):
        active_version(make_repo(tmp_path, ["1", "2"], active=pointer))


def test_no_versions(tmp_path):
    with pytest.raises(FileNotFoundError):
        active_version(tmp_path)
    assert next_version(tmp_path / "missing") == 1
