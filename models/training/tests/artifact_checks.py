"""Checks one model version directory against the contract the scorer and gateway rely on.

Used on the fast run's output and on the committed models/churn/<version>.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
from churn_training import export
from churn_training.schema import FEATURES, feature_specs

METRICS = ("roc_auc", "pr_auc", "f1", "precision", "recall", "accuracy", "brier")
FILES = ("model.onnx", "model.json", "parity.json", "MODEL_CARD.md")


def check_version_dir(path: Path, version: int) -> dict:
    for name in FILES:
        assert (path / name).is_file(), f"{path / name} missing"
    card = json.loads((path / "model.json").read_text())
    onnx_bytes = (path / "model.onnx").read_bytes()

    # Identity and provenance.
    assert card["name"] == "churn" and card["version"] == version
    assert isinstance(card["created"], str) and card["created"].endswith("Z")
    data = card["training_data"]
    assert data["path"].endswith("telco-churn.csv") and len(data["sha256"]) == 64
    assert data["rows"] > 0 and 0 < data["positive_share"] < 1
    assert card["algorithm"]["name"] in ("HistGradientBoostingClassifier", "LogisticRegression", "LGBMClassifier")
    assert isinstance(card["algorithm"]["params"], dict) and card["algorithm"]["params"]

    # Metrics: test, baseline, CV.
    for block in ("test", "baseline"):
        assert set(card["metrics"][block]) == set(METRICS), block
        assert all(0 <= card["metrics"][block][m] <= 1 for m in METRICS)
    assert 0.5 < card["metrics"]["cv"]["chosen"]["roc_auc"] <= 1
    chosen = card["selection"]["chosen"]
    tests = {k: c["test_roc_auc"] for k, c in card["selection"]["candidates"].items()}
    assert tests[chosen] == max(tests.values()) == card["metrics"]["test"]["roc_auc"]

    # ONNX: hash, signature, metadata.
    assert card["onnx"]["sha256"] == hashlib.sha256(onnx_bytes).hexdigest()
    assert card["onnx"]["bytes"] == len(onnx_bytes) < 1_000_000
    model = onnx.load_from_string(onnx_bytes)
    onnx.checker.check_model(model)
    assert card["onnx"]["inputs"] == [
        {"name": f.name, "type": "string" if f.kind == "categorical" else "float32", "shape": [None, 1]}
        for f in FEATURES
    ]
    assert [o.name for o in model.graph.output] == ["label", "probabilities"]
    props = {p.key: p.value for p in model.metadata_props}
    assert json.loads(props["ortline.features"]) == card["features"] == feature_specs()
    assert (
        json.loads(props["ortline.output"]) == card["output"] == {"name": "probabilities", "index": 1, "label": "label"}
    )
    assert json.loads(props["ortline.risk_thresholds"]) == card["risk_thresholds"]
    assert card["answer"] == {
        "id_field": "customer_id",
        "probability_field": "churn_probability",
        "risk_field": "risk_category",
    }
    assert model.model_version == version

    # Feature contract details the serving side depends on.
    by_name = {f["name"]: f for f in card["features"]}
    assert by_name["TotalCharges"]["required"] is False and by_name["TotalCharges"]["default"] is None
    assert by_name["SeniorCitizen"]["integer"] is True and (
        by_name["SeniorCitizen"]["min"],
        by_name["SeniorCitizen"]["max"],
    ) == (0, 1)
    assert by_name["tenure"]["integer"] is True and (by_name["tenure"]["min"], by_name["tenure"]["max"]) == (0, None)
    assert (by_name["MonthlyCharges"]["min"], by_name["MonthlyCharges"]["max"]) == (0, None)
    assert all(f["required"] for f in card["features"] if f["name"] != "TotalCharges")

    # Risk thresholds: Low < Medium < High = 1.0, with a rationale.
    thresholds = card["risk_thresholds"]
    assert [t["category"] for t in thresholds] == ["Low", "Medium", "High"]
    assert 0 < thresholds[0]["max"] < thresholds[1]["max"] < thresholds[2]["max"] == 1.0
    assert len(card["risk_thresholds_rationale"]) > 50

    # What a business cannot change: named features, demographics and history among them.
    assert set(card["fixed_features"]) <= set(by_name) and {"gender", "tenure"} <= set(card["fixed_features"])
    assert "Contract" not in card["fixed_features"] and len(card["fixed_features_rationale"]) > 50

    # Reference distributions: every feature and the score, shares summing to 1.
    ref = card["reference"]
    assert set(ref["features"]) == {f.name for f in FEATURES}
    for name, hist in ref["features"].items():
        shares = list(hist["categories"].values()) if hist["type"] == "categorical" else hist["shares"]
        assert abs(sum(shares) - 1) < 1e-4, name
        if hist["type"] == "numeric":
            assert len(hist["edges"]) == len(hist["shares"]) + 1 and hist["edges"] == sorted(hist["edges"])
    assert (
        abs(sum(ref["score"]["shares"]) - 1) < 1e-4 and ref["score"]["edges"][0] == 0 and ref["score"]["edges"][-1] == 1
    )

    # parity.json reproduces through ONNX Runtime, fed from the JSON records as a client would.
    parity = json.loads((path / "parity.json").read_text())
    assert parity["model"] == "churn" and parity["version"] == version
    assert parity["tolerance"] == 1e-5 and parity["output"] == {"name": "probabilities", "index": 1}
    rows = parity["rows"]
    assert len(rows) >= 300
    assert len({r["customerID"] for r in rows}) == len(rows)
    for r in rows[:5]:
        assert list(r["features"]) == [f.name for f in FEATURES]
    assert any(r["features"]["TotalCharges"] is None for r in rows), "no blank-TotalCharges row in parity.json"
    _, got = export.run(export.session(onnx_bytes), export.record_feeds([r["features"] for r in rows]))
    expected = np.array([r["probability"] for r in rows])
    assert np.max(np.abs(got.astype(np.float64) - expected)) <= parity["tolerance"]
    assert card["parity"]["max_abs_diff"] <= 1e-5

    text = (path / "MODEL_CARD.md").read_text()
    assert f"**{card['metrics']['test']['roc_auc']:.4f}**" in text
    for heading in (
        "## Intended use",
        "## Metrics",
        "## Risk categories",
        "## What a business can change",
        "## Fairness note",
        "## Limitations",
        "## How to retrain",
    ):
        assert heading in text
    return card
