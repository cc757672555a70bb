"""A fast training run end to end (train.sh --fast), its artifacts, MLflow, and determinism."""

from __future__ import annotations

import json
from pathlib import Path

from artifact_checks import FILES, check_version_dir
from churn_training.schema import load_validated, to_frames
from churn_training.train import SEED, TEST_SIZE
from conftest import run_train
from sklearn.model_selection import train_test_split


def test_fast_run_writes_a_complete_version(fast_run):
    card = check_version_dir(fast_run["out"], version=1)
    assert card["training"]["fast"] is True and card["metrics"]["cv"]["folds"] == 3
    assert "Fast run" in (fast_run["out"] / "MODEL_CARD.md").read_text()
    assert "parity: 1198 rows" in fast_run["proc"].stdout


def test_fast_run_reaches_a_sane_auc(fast_run):
    card = json.loads((fast_run["out"] / "model.json").read_text())
    # The small grid is not tuned for the target; it must still be a working model.
    assert card["metrics"]["test"]["roc_auc"] > 0.83
    assert card["metrics"]["baseline"]["roc_auc"] > 0.83


def test_parity_file_holds_every_blank_total_charges_test_row(fast_run, data_path):
    raw, _ = load_validated(data_path)
    X, y, ids = to_frames(raw)
    _, X_test = train_test_split(X, test_size=TEST_SIZE, stratify=y, random_state=SEED)
    blank_test_ids = set(ids[X_test.index[X_test["TotalCharges"].isna()]])
    parity = json.loads((fast_run["out"] / "parity.json").read_text())
    in_file = {r["customerID"] for r in parity["rows"] if r["features"]["TotalCharges"] is None}
    if blank_test_ids:
        assert blank_test_ids <= in_file
        assert all(r["split"] == "test" for r in parity["rows"])
        assert len(parity["rows"]) == 300
    else:
        assert in_file and all(r["split"] == "train" for r in parity["rows"] if r["customerID"] in in_file)
    test_ids = set(ids[X_test.index])
    assert all(r["customerID"] in test_ids for r in parity["rows"] if r["split"] == "test")


def test_run_is_logged_to_mlflow(fast_run):
    store = fast_run["mlruns"]
    runs = [p.parent for p in store.glob("*/*/meta.yaml")]
    assert len(runs) == 1, runs
    run = runs[0]
    card = json.loads((fast_run["out"] / "model.json").read_text())
    logged_auc = float((run / "metrics" / "test_roc_auc").read_text().split()[1])
    assert logged_auc == card["metrics"]["test"]["roc_auc"]
    assert (run / "params" / "seed").read_text() == "42"
    assert (run / "params" / "algorithm").read_text() == card["algorithm"]["key"]
    for name in ("model.onnx", "MODEL_CARD.md", "model.json", "parity.json"):
        assert (run / "artifacts" / "model" / name).is_file(), name
    assert f"mlflow: run {run.name}" in fast_run["proc"].stdout


def test_rerun_is_deterministic_byte_for_byte(fast_run, data_path):
    """Same data and seed, second process, same directory: identical metrics and identical files
    (`created` is kept from the existing model.json)."""
    out = fast_run["out"]
    before = {name: (out / name).read_bytes() for name in FILES}
    proc = run_train("--fast", "--out", str(out), "--data", str(data_path), "--no-mlflow")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    after = {name: (out / name).read_bytes() for name in FILES}
    first, second = json.loads(before["model.json"]), json.loads(after["model.json"])
    assert first["metrics"] == second["metrics"]
    assert first["selection"] == second["selection"]
    for name in FILES:
        assert before[name] == after[name], f"{name} differs between two runs"


def test_when_no_blank_total_charges_row_falls_in_the_test_split_some_are_added_and_flagged(tmp_path, data_path):
    """Seed 17 puts none of the 9 blank-TotalCharges rows in the test split. Also: the version comes
    from the output directory's name, and --created is honoured."""
    out = tmp_path / "churn" / "2"
    proc = run_train(
        "--fast",
        "--out",
        str(out),
        "--data",
        str(data_path),
        "--seed",
        "17",
        "--no-mlflow",
        "--created",
        "2020-01-01T00:00:00Z",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    card = check_version_dir(out, version=2)
    assert card["created"] == "2020-01-01T00:00:00Z" and card["metrics"]["split"]["seed"] == 17
    parity = json.loads((out / "parity.json").read_text())
    added = [r for r in parity["rows"] if r["split"] == "train"]
    assert len(added) == 3 and all(r["features"]["TotalCharges"] is None for r in added)
    assert not any(r["features"]["TotalCharges"] is None for r in parity["rows"] if r["split"] == "test")
    assert "were added because no blank-TotalCharges row" in parity["description"]


def test_a_failing_tracking_server_is_reported_after_the_artifacts_are_written(tmp_path, data_path):
    out = tmp_path / "1"
    proc = run_train(
        "--fast", "--out", str(out), "--data", str(data_path), env={"MLFLOW_TRACKING_URI": "bogus-scheme://nowhere"}
    )
    assert proc.returncode == 5, proc.stdout + proc.stderr
    assert "logging to MLflow failed" in proc.stderr and "artifacts in" in proc.stderr
    assert all((out / name).is_file() for name in FILES)


def test_a_named_lightgbm_run_beside_version_1_compares_itself_with_it(fast_run, data_path):
    """train.sh --algorithm lightgbm: LightGBM is kept whatever the baseline scores, the baseline is
    tuned beside it, and the version below it in the same folder is shown beside it in the card."""
    out = fast_run["out"].parent / "2"
    proc = run_train("--fast", "--algorithm", "lightgbm", "--out", str(out), "--data", str(data_path), "--no-mlflow")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    card = check_version_dir(out, version=2)
    assert card["algorithm"]["key"] == "lightgbm" and card["algorithm"]["name"] == "LGBMClassifier"
    assert card["algorithm"]["library"].startswith("LightGBM ")
    assert card["selection"]["rule"].startswith("named on the command line")
    assert set(card["selection"]["candidates"]) == {"logistic_regression", "lightgbm"}
    assert card["training"]["environment"]["lightgbm"] and "--algorithm lightgbm" in card["training"]["command"]
    v1 = json.loads((fast_run["out"] / "model.json").read_text())
    assert card["previous"] == {
        "version": 1,
        "algorithm": v1["algorithm"]["name"],
        "test": v1["metrics"]["test"],
        "cv_roc_auc": v1["metrics"]["cv"]["chosen"]["roc_auc"],
    }
    text = (out / "MODEL_CARD.md").read_text()
    assert "### Compared with version 1" in text
    assert (
        f"| ROC AUC | **{card['metrics']['test']['roc_auc']:.4f}** | {v1['metrics']['test']['roc_auc']:.4f} |" in text
    )
    # Version 1 has nothing below it: no comparison there.
    assert "previous" not in v1


def test_an_unknown_algorithm_is_a_usage_error(tmp_path, data_path):
    proc = run_train("--fast", "--algorithm", "xgboost", "--out", str(tmp_path / "1"), "--data", str(data_path))
    assert proc.returncode == 2
    assert "--algorithm" in proc.stderr and not (tmp_path / "1").exists()


def test_register_puts_the_model_folder_in_a_real_mlflow_registry_under_an_alias(tmp_path, data_path):
    """--register NAME --alias A against `mlflow server` (sqlite, local artifacts): the run's model/
    folder becomes version 1, then 2, of the registered model, and the alias follows the newest."""
    import mlflow
    from mlflow_server import mlflow_server

    with mlflow_server(tmp_path) as url:
        for expected in ("1", "2"):
            out = tmp_path / "repo" / "churn" / expected
            proc = run_train(
                "--fast",
                "--out",
                str(out),
                "--data",
                str(data_path),
                "--register",
                "churn-test",
                "--alias",
                "champion",
                env={"MLFLOW_TRACKING_URI": url},
            )
            assert proc.returncode == 0, proc.stdout + proc.stderr
            assert f"registered model churn-test version {expected}, alias champion" in proc.stdout
        client = mlflow.MlflowClient(tracking_uri=url, registry_uri=url)
        champion = client.get_model_version_by_alias("churn-test", "champion")
        assert champion.version == "2"
        mlflow.set_tracking_uri(url)
        local = Path(mlflow.artifacts.download_artifacts("models:/churn-test@champion", dst_path=str(tmp_path / "dl")))
        assert sorted(p.name for p in local.iterdir()) == ["MODEL_CARD.md", "model.json", "model.onnx", "parity.json"]
        assert (local / "model.onnx").read_bytes() == (tmp_path / "repo" / "churn" / "2" / "model.onnx").read_bytes()


def test_alias_without_register_is_a_usage_error(tmp_path, data_path):
    proc = run_train("--fast", "--out", str(tmp_path / "1"), "--data", str(data_path), "--alias", "champion")
    assert proc.returncode == 2 and "--alias needs --register" in proc.stderr
