"""MLflow logging: a local file store under models/training/mlruns unless MLFLOW_TRACKING_URI says otherwise."""

from __future__ import annotations

import os
from pathlib import Path

from .repository import TRAINING_DIR

EXPERIMENT = "ortline-churn"
ARTIFACTS = ("model.onnx", "MODEL_CARD.md", "model.json", "parity.json")


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or (TRAINING_DIR / "mlruns").resolve().as_uri()


def _flat(prefix: str, values: dict) -> dict:
    return {f"{prefix}{k}": v for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def log_run(
    card: dict,
    out_dir: Path,
    uri: str | None = None,
    register: str | None = None,
    alias: str | None = None,
) -> tuple[str, str, str | None]:
    """Logs params, metrics and the artifacts of one training run (the artifact folder `model/`
    holds model.onnx, model.json, parity.json and MODEL_CARD.md). With `register`, that folder
    becomes a new version of the registered model of that name, and `alias` (e.g. champion)
    points at it. Returns (tracking URI, run id, registered version or None)."""
    import mlflow  # imported here: it is slow to import and only this step needs it

    uri = uri or tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(EXPERIMENT)
    metrics = card["metrics"]
    with mlflow.start_run(run_name=f"{card['name']}-v{card['version']}") as run:
        mlflow.set_tags(
            {
                "ortline.model": card["name"],
                "ortline.version": str(card["version"]),
                "ortline.algorithm": card["algorithm"]["name"],
                "ortline.fast": str(card["training"]["fast"]).lower(),
                "ortline.data_sha256": card["training_data"]["sha256"],
            }
        )
        params = {
            "algorithm": card["algorithm"]["key"],
            "seed": card["training"]["seed"],
            "test_size": card["training"]["test_size"],
            "cv_folds": card["training"]["cv_folds"],
            "fast": card["training"]["fast"],
            "data_rows": card["training_data"]["rows"],
            "data_sha256": card["training_data"]["sha256"],
            **{f"model.{k}": v for k, v in card["algorithm"]["params"].items()},
            **{f"baseline.{k}": v for k, v in card["selection"]["candidates"]["logistic_regression"]["params"].items()},
        }
        mlflow.log_params(params)
        values = {
            **_flat("test_", metrics["test"]),
            **_flat("baseline_test_", metrics["baseline"]),
            **_flat("cv_", metrics["cv"]["chosen"]),
            **_flat("baseline_cv_", metrics["cv"]["baseline"]),
            "parity_max_abs_diff": card["parity"]["max_abs_diff"],
            "risk_low_max": card["risk_thresholds"][0]["max"],
            "risk_medium_max": card["risk_thresholds"][1]["max"],
            "onnx_bytes": card["onnx"]["bytes"],
        }
        mlflow.log_metrics(values)
        for name in ARTIFACTS:
            mlflow.log_artifact(str(out_dir / name), artifact_path="model")
        run_id = run.info.run_id
    if register is None:
        return uri, run_id, None
    registered = mlflow.register_model(
        f"runs:/{run_id}/model",
        register,
        tags={"ortline.model": card["name"], "ortline.version": str(card["version"])},
    )
    if alias:
        mlflow.MlflowClient().set_registered_model_alias(register, alias, registered.version)
    return uri, run_id, str(registered.version)
