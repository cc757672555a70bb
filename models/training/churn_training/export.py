"""The fitted scikit-learn pipeline -> one ONNX graph that takes raw features; parity checks."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import lightgbm
import numpy as np
import onnx
import onnxmltools
import onnxruntime as ort
import pandas as pd
import skl2onnx
import sklearn
from lightgbm import LGBMClassifier
from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
from skl2onnx import to_onnx, update_registered_converter
from skl2onnx.common.data_types import FloatTensorType, StringTensorType
from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes
from sklearn.pipeline import Pipeline

from .schema import FEATURES, feature_specs

# ai.onnx 17 and ai.onnx.ml 3: old enough for every ONNX Runtime the scorer may load (>= 1.13),
# new enough for everything skl2onnx emits for these pipelines.
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
OUTPUT = {"name": "probabilities", "index": 1, "label": "label"}
# The names of the serving answer's fields (model.json "answer"): the gateway renders v1 answers with
# them, so a model says in its own words what its probability means. Card only, not ONNX metadata.
ANSWER = {"id_field": "customer_id", "probability_field": "churn_probability", "risk_field": "risk_category"}
PARITY_TOLERANCE = 1e-5

# skl2onnx converts the scikit-learn pipeline; the LightGBM step inside it is converted by
# onnxmltools' converter, registered here under the alias onnxmltools itself uses.
update_registered_converter(
    LGBMClassifier,
    "LightGbmLGBMClassifier",
    calculate_linear_classifier_output_shapes,
    convert_lightgbm,
    options={"nocl": [True, False], "zipmap": [True, False, "columns"]},
)


def initial_types() -> list:
    """One [N, 1] input per feature, named as the CSV column: string or float32."""
    return [
        (f.name, StringTensorType([None, 1]) if f.kind == "categorical" else FloatTensorType([None, 1]))
        for f in FEATURES
    ]


def convert(
    pipeline: Pipeline,
    *,
    name: str,
    version: int,
    description: str,
    risk_thresholds: list[dict],
) -> onnx.ModelProto:
    classifier = pipeline.steps[-1][1]
    model = to_onnx(
        pipeline,
        initial_types=initial_types(),
        target_opset=TARGET_OPSET,
        # A plain [N, 2] float tensor instead of a sequence of maps: what a tensor scorer can read.
        options={id(classifier): {"zipmap": False}},
        naming=name,
    )
    model.graph.name = name
    model.doc_string = description
    model.producer_name = "ortline churn_training"
    model.producer_version = f"skl2onnx {skl2onnx.__version__}, scikit-learn {sklearn.__version__}"
    if isinstance(classifier, LGBMClassifier):
        model.producer_version += f", LightGBM {lightgbm.__version__}, onnxmltools {onnxmltools.__version__}"
    model.model_version = int(version)
    metadata = {
        "ortline.name": name,
        "ortline.version": str(version),
        "ortline.features": json.dumps(feature_specs(), separators=(",", ":")),
        "ortline.output": json.dumps(OUTPUT, separators=(",", ":")),
        "ortline.risk_thresholds": json.dumps(risk_thresholds, separators=(",", ":")),
    }
    del model.metadata_props[:]
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model, full_check=True)
    return model


def serialize(model: onnx.ModelProto) -> bytes:
    return model.SerializeToString(deterministic=True)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def session(model_bytes: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    # Two cores shared with other work: one thread, no spinning.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def feeds(X: pd.DataFrame) -> dict[str, np.ndarray]:
    """A typed frame (NaN for missing numerics) -> ONNX inputs."""
    out = {}
    for f in FEATURES:
        column = X[f.name]
        if f.kind == "categorical":
            out[f.name] = column.to_numpy(dtype=object).reshape(-1, 1)
        else:
            out[f.name] = column.to_numpy(dtype=np.float32).reshape(-1, 1)
    return out


def record_feeds(records: list[dict]) -> dict[str, np.ndarray]:
    """JSON records (as in parity.json; null = missing) -> ONNX inputs, as a client would send."""
    out = {}
    for f in FEATURES:
        values = [r.get(f.name) for r in records]
        if f.kind == "categorical":
            out[f.name] = np.array(values, dtype=object).reshape(-1, 1)
        else:
            out[f.name] = np.array([np.nan if v is None else v for v in values], dtype=np.float32).reshape(-1, 1)
    return out


def run(sess: ort.InferenceSession, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(labels int64 [N], churn probability float32 [N])."""
    label, probabilities = sess.run([OUTPUT["label"], OUTPUT["name"]], inputs)
    return label, probabilities[:, OUTPUT["index"]]


@dataclass
class Parity:
    rows: int
    max_abs_diff: float
    worst_row: int
    label_mismatches: int  # rows where ORT's label differs from sklearn's predict (ties at 0.5 only)

    @property
    def ok(self) -> bool:
        return self.max_abs_diff <= PARITY_TOLERANCE

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "max_abs_diff": self.max_abs_diff,
            "tolerance": PARITY_TOLERANCE,
            "label_mismatches": self.label_mismatches,
        }


class ParityError(Exception):
    pass


def check_parity(pipeline: Pipeline, sess: ort.InferenceSession, X: pd.DataFrame) -> Parity:
    expected = pipeline.predict_proba(X)[:, 1]
    expected_label = pipeline.predict(X)
    label, got = run(sess, feeds(X))
    diff = np.abs(got.astype(np.float64) - expected)
    worst = int(np.argmax(diff))
    return Parity(len(X), float(diff[worst]), worst, int(np.sum(label != expected_label)))
