"""The exported ONNX graph against the pipeline it came from, for every candidate algorithm."""

from __future__ import annotations

import json
import warnings

import numpy as np
import onnx
import pandas as pd
import pytest
from churn_training import export
from churn_training.modeling import ALGORITHM_KEYS, LIGHTGBM_KEY, candidates, float32_exact
from churn_training.schema import FEATURES, feature_specs, load_validated, to_frames
from threadpoolctl import threadpool_limits

THRESHOLDS = [{"category": "Low", "max": 0.3}, {"category": "Medium", "max": 0.5}, {"category": "High", "max": 1.0}]


@pytest.fixture(scope="module")
def frames(data_path):
    raw, _ = load_validated(data_path)
    X, y, _ = to_frames(raw)
    return X, y


@pytest.fixture(scope="module", params=ALGORITHM_KEYS)
def exported(request, frames):
    X, y = frames
    candidate = next(c for c in candidates(seed=7, fast=True, keys=ALGORITHM_KEYS) if c.key == request.param)
    params = {k: v[0] for k, v in candidate.grid.items()}
    with threadpool_limits(1):
        # Fitted on half the rows, so that the other half holds values the trees never saw.
        pipeline = float32_exact(candidate.pipeline.set_params(**params).fit(X.iloc[:3000], y.iloc[:3000]))
    model = export.convert(pipeline, name="churn", version=3, description="test", risk_thresholds=THRESHOLDS)
    data = export.serialize(model)
    return pipeline, model, export.session(data)


def test_inputs_are_one_per_feature_named_as_the_csv_columns(exported):
    _, _, sess = exported
    inputs = sess.get_inputs()
    assert [i.name for i in inputs] == [f.name for f in FEATURES]
    for i, f in zip(inputs, FEATURES, strict=True):
        assert i.type == ("tensor(string)" if f.kind == "categorical" else "tensor(float)"), i
        assert len(i.shape) == 2 and i.shape[1] == 1 and not isinstance(i.shape[0], int), i.shape


def test_outputs_are_plain_tensors_without_zipmap(exported):
    _, model, sess = exported
    outputs = {o.name: o for o in sess.get_outputs()}
    assert list(outputs) == ["label", "probabilities"]
    assert outputs["label"].type == "tensor(int64)" and len(outputs["label"].shape) == 1
    assert outputs["probabilities"].type == "tensor(float)" and outputs["probabilities"].shape[1] == 2
    assert not any(node.op_type == "ZipMap" for node in model.graph.node)


def test_metadata_props(exported):
    _, model, _ = exported
    props = {p.key: p.value for p in model.metadata_props}
    assert json.loads(props["ortline.features"]) == feature_specs()
    assert json.loads(props["ortline.output"]) == {"name": "probabilities", "index": 1, "label": "label"}
    assert json.loads(props["ortline.risk_thresholds"]) == THRESHOLDS
    assert props["ortline.version"] == "3" and model.model_version == 3
    assert model.doc_string == "test" and model.producer_name == "ortline churn_training"
    onnx.checker.check_model(model, full_check=True)


def test_parity_on_every_row_of_the_data(exported, frames):
    pipeline, _, sess = exported
    X, _ = frames
    parity = export.check_parity(pipeline, sess, X)
    assert parity.rows == len(X) == 5987
    assert parity.ok, parity
    assert parity.max_abs_diff < 1e-6  # float32 vs float64 rounding only; a real mismatch is far larger
    assert parity.label_mismatches == 0


def test_missing_total_charges_is_imputed_in_the_graph(exported, frames):
    pipeline, _, sess = exported
    X, _ = frames
    rows = X.iloc[:50].copy()
    rows["tenure"] = 0.0
    rows["TotalCharges"] = np.nan
    _, with_nan = export.run(sess, export.feeds(rows))
    rows["TotalCharges"] = 0.0
    _, with_zero = export.run(sess, export.feeds(rows))
    assert np.array_equal(with_nan, with_zero)
    assert np.max(np.abs(with_nan - pipeline.predict_proba(rows)[:, 1])) <= export.PARITY_TOLERANCE


def test_unknown_categories_do_not_crash_the_graph(exported, frames):
    pipeline, _, sess = exported
    X, _ = frames
    rows = X.iloc[:20].copy()
    rows["Contract"] = "Weekly"
    rows["gender"] = ""
    label, proba = export.run(sess, export.feeds(rows))
    assert label.shape == (20,) and np.all(np.isfinite(proba))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns about the unknown categories; that is the point
        expected = pipeline.predict_proba(rows)[:, 1]
    assert np.max(np.abs(proba - expected)) <= export.PARITY_TOLERANCE


def test_json_records_feed_the_graph_like_a_client(exported, frames):
    """record_feeds (used on parity.json) gives the same inputs as the typed frame."""
    _, _, sess = exported
    X, _ = frames
    rows = X.iloc[:30]
    records = [
        {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
        for r in rows.to_dict("records")
    ]
    _, from_records = export.run(sess, export.record_feeds(records))
    _, from_frame = export.run(sess, export.feeds(rows))
    assert np.array_equal(from_records, from_frame)


def test_serialisation_is_deterministic(exported):
    pipeline, model, _ = exported
    again = export.convert(pipeline, name="churn", version=3, description="test", risk_thresholds=THRESHOLDS)
    assert export.serialize(again) == export.serialize(model)


def test_tree_thresholds_split_float32_inputs_the_same_in_onnx(frames):
    """Inputs exactly at, one float32 step below and above every tree threshold: the values where a
    threshold rounded to float32 would send a row down the other branch (see float32_exact)."""
    X, y = frames
    candidate = next(c for c in candidates(seed=7, fast=True) if c.key == "hist_gradient_boosting")
    with threadpool_limits(1):
        pipeline = candidate.pipeline.set_params(**{k: v[0] for k, v in candidate.grid.items()}).fit(
            X.iloc[:3000], y.iloc[:3000]
        )
    before = pipeline.predict_proba(X)[:, 1]
    unpatched = export.session(
        export.serialize(export.convert(pipeline, name="churn", version=1, description="", risk_thresholds=THRESHOLDS))
    )
    float32_exact(pipeline)
    assert np.array_equal(before, pipeline.predict_proba(X)[:, 1]), "float32_exact changed a prediction"

    # The preprocessor's first four output columns are the numerics, in this order.
    numeric_columns = ["TotalCharges", "SeniorCitizen", "tenure", "MonthlyCharges"]
    rows = []
    for predictors in pipeline.named_steps["model"]._predictors:
        for node in predictors[0].nodes:
            if node["is_leaf"] or node["feature_idx"] >= len(numeric_columns):
                continue
            t = np.float32(node["num_threshold"])
            for value in (np.nextafter(t, np.float32(-np.inf)), t, np.nextafter(t, np.float32(np.inf))):
                row = X.iloc[len(rows) % len(X)].copy()
                row[numeric_columns[node["feature_idx"]]] = float(value)
                rows.append(row)
    probe = pd.DataFrame(rows).astype(X.dtypes.to_dict())
    assert len(probe) > 30
    sess = export.session(
        export.serialize(export.convert(pipeline, name="churn", version=1, description="", risk_thresholds=THRESHOLDS))
    )
    _, got = export.run(sess, export.feeds(probe))
    expected = pipeline.predict_proba(probe)[:, 1]
    assert np.max(np.abs(got - expected)) <= export.PARITY_TOLERANCE
    # The probe has teeth: without float32_exact, some of these rows do go the other way.
    _, broken = export.run(unpatched, export.feeds(probe))
    assert np.max(np.abs(broken - expected)) > export.PARITY_TOLERANCE


def _lightgbm_thresholds(pipeline) -> list[tuple[int, float]]:
    """(feature index, threshold) of every numerical split of the fitted LightGBM model."""
    out = []

    def walk(node):
        if "split_feature" not in node:
            return
        out.append((node["split_feature"], node["threshold"]))
        walk(node["left_child"])
        walk(node["right_child"])

    for tree in pipeline.named_steps["model"].booster_.dump_model()["tree_info"]:
        walk(tree["tree_structure"])
    return out


def test_lightgbm_thresholds_split_float32_inputs_the_same_in_onnx(frames):
    """The same probe for LightGBM, whose thresholds float32_exact rewrites in the booster's text model."""
    X, y = frames
    candidate = next(c for c in candidates(seed=7, fast=True, keys=ALGORITHM_KEYS) if c.key == LIGHTGBM_KEY)
    with threadpool_limits(1):
        pipeline = candidate.pipeline.set_params(**{k: v[0] for k, v in candidate.grid.items()}).fit(
            X.iloc[:3000], y.iloc[:3000]
        )
    before = pipeline.predict_proba(X)[:, 1]
    unpatched = export.session(
        export.serialize(export.convert(pipeline, name="churn", version=2, description="", risk_thresholds=THRESHOLDS))
    )
    thresholds = _lightgbm_thresholds(pipeline)
    float32_exact(pipeline)
    assert np.array_equal(before, pipeline.predict_proba(X)[:, 1]), "float32_exact changed a prediction"
    patched = _lightgbm_thresholds(pipeline)
    assert len(patched) == len(thresholds) and all(float(np.float32(t)) == t for _, t in patched)

    numeric_columns = ["TotalCharges", "SeniorCitizen", "tenure", "MonthlyCharges"]
    rows = []
    for feature, threshold in thresholds:
        if feature >= len(numeric_columns):
            continue
        t = np.float32(threshold)
        for value in (np.nextafter(t, np.float32(-np.inf)), t, np.nextafter(t, np.float32(np.inf))):
            row = X.iloc[len(rows) % len(X)].copy()
            row[numeric_columns[feature]] = float(value)
            rows.append(row)
    probe = pd.DataFrame(rows).astype(X.dtypes.to_dict())
    assert len(probe) > 30
    sess = export.session(
        export.serialize(export.convert(pipeline, name="churn", version=2, description="", risk_thresholds=THRESHOLDS))
    )
    _, got = export.run(sess, export.feeds(probe))
    expected = pipeline.predict_proba(probe)[:, 1]
    assert np.max(np.abs(got - expected)) <= export.PARITY_TOLERANCE
    _, broken = export.run(unpatched, export.feeds(probe))
    assert np.max(np.abs(broken - expected)) > export.PARITY_TOLERANCE
