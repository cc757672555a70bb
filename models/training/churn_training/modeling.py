"""The scikit-learn pipelines (all preprocessing inside, so the ONNX graph takes raw features),
cross-validated tuning, and the metrics."""

from __future__ import annotations

import re
from dataclasses import dataclass

import lightgbm
import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .schema import CATEGORICAL_FEATURES

# TotalCharges is blank only where tenure == 0, i.e. before the first bill: 0 is its true value,
# not the column mean. Imputed inside the graph, so a client may send null (NaN) for it.
TOTAL_CHARGES_FILL = 0.0
DECISION_THRESHOLD = 0.5  # for label/F1/precision/recall/accuracy; the probability itself is the product

CV_SCORING = {"roc_auc": "roc_auc", "pr_auc": "average_precision", "brier": "neg_brier_score"}


def preprocessor(scale: bool) -> ColumnTransformer:
    def numeric(*steps):
        chain = list(steps) + ([("scale", StandardScaler())] if scale else [])
        return Pipeline(chain) if chain else "passthrough"

    return ColumnTransformer(
        [
            (
                "total_charges",
                numeric(("impute", SimpleImputer(strategy="constant", fill_value=TOTAL_CHARGES_FILL))),
                ["TotalCharges"],
            ),
            ("numeric", numeric(), ["SeniorCitizen", "tenure", "MonthlyCharges"]),
            # Unknown categories encode as all-zeros rather than failing inside the graph; the
            # serving side rejects them earlier, from the `categories` in the contract.
            ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), list(CATEGORICAL_FEATURES)),
        ],
        remainder="drop",
        sparse_threshold=0.0,
    )


@dataclass(frozen=True)
class Candidate:
    key: str  # "logistic_regression" | "hist_gradient_boosting" | "lightgbm"
    display: str
    pipeline: Pipeline
    grid: dict


BASELINE_KEY = "logistic_regression"
GBM_KEY = "hist_gradient_boosting"
LIGHTGBM_KEY = "lightgbm"
ALGORITHM_KEYS = (BASELINE_KEY, GBM_KEY, LIGHTGBM_KEY)
# What `--algorithm auto` compares (v1's selection): the baseline and the histogram GBM.
AUTO_KEYS = (BASELINE_KEY, GBM_KEY)


def candidates(seed: int, fast: bool, keys: tuple[str, ...] = AUTO_KEYS) -> list[Candidate]:
    """The candidates named by `keys` (the baseline always among them), in that order."""
    every = _all_candidates(seed, fast)
    return [c for c in every if c.key in keys]


def _all_candidates(seed: int, fast: bool) -> list[Candidate]:
    lr = Pipeline(
        [
            ("preprocess", preprocessor(scale=True)),
            ("model", LogisticRegression(max_iter=5000, solver="lbfgs")),
        ]
    )
    gbm = Pipeline(
        [
            # Trees need no scaling; one-hot keeps the ONNX converter on its well-trodden path
            # (the native categorical support of the histogram GBM does not convert).
            ("preprocess", preprocessor(scale=False)),
            (
                "model",
                # early_stopping=False: no internal random validation split, so every row trains
                # and the run is deterministic given random_state.
                HistGradientBoostingClassifier(early_stopping=False, random_state=seed, l2_regularization=1.0),
            ),
        ]
    )
    lgbm = Pipeline(
        [
            ("preprocess", preprocessor(scale=False)),
            (
                "model",
                # One thread, row-wise histograms and deterministic=True: the same data and seed give
                # the same trees, byte for byte.
                LGBMClassifier(
                    random_state=seed,
                    n_jobs=1,
                    deterministic=True,
                    force_row_wise=True,
                    reg_lambda=1.0,
                    verbose=-1,
                ),
            ),
        ]
    )
    if fast:
        lgbm_grid = {
            "model__learning_rate": [0.05],
            "model__n_estimators": [100],
            "model__num_leaves": [4],
            "model__min_child_samples": [40],
        }
        lr_grid = {"model__C": [0.1, 1.0]}
        gbm_grid = {
            "model__learning_rate": [0.05],
            "model__max_iter": [100],
            "model__max_leaf_nodes": [4],
            "model__min_samples_leaf": [40],
        }
    else:
        lr_grid = {"model__C": [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]}
        # The data set is small and mostly linear: shallow trees (3-4 leaves), slow learning and
        # large leaves win; deeper or longer settings over-fit (tried, CV AUC drops to ~0.83).
        gbm_grid = {
            "model__learning_rate": [0.03, 0.05],
            "model__max_iter": [100, 200],
            "model__max_leaf_nodes": [3, 4],
            "model__min_samples_leaf": [20, 80],
        }
        # The same lesson for LightGBM: few leaves, slow learning; more trees than the histogram
        # GBM since LightGBM's leaves are fitted with less shrinkage per tree.
        lgbm_grid = {
            "model__learning_rate": [0.02, 0.05],
            "model__n_estimators": [150, 300],
            "model__num_leaves": [3, 4, 6],
            "model__min_child_samples": [20, 80],
        }
    return [
        Candidate(BASELINE_KEY, "Logistic regression (baseline)", lr, lr_grid),
        Candidate(GBM_KEY, "Histogram gradient boosting", gbm, gbm_grid),
        Candidate(LIGHTGBM_KEY, "LightGBM", lgbm, lgbm_grid),
    ]


@dataclass
class Tuned:
    candidate: Candidate
    estimator: Pipeline  # refitted on the whole training split with the best parameters
    best_params: dict  # without the "model__" prefix
    cv: dict  # mean/std of each CV_SCORING metric for the best parameters
    cv_folds: int
    grid_size: int
    grid_results: list[dict]


def cv_splitter(seed: int, folds: int) -> StratifiedKFold:
    return StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)


def tune(candidate: Candidate, X: pd.DataFrame, y: pd.Series, seed: int, folds: int) -> Tuned:
    search = GridSearchCV(
        candidate.pipeline,
        candidate.grid,
        scoring=CV_SCORING,
        refit="roc_auc",
        cv=cv_splitter(seed, folds),
        n_jobs=1,
        error_score="raise",
    )
    search.fit(X, y)
    best = search.best_index_
    results = search.cv_results_
    cv: dict[str, float] = {}
    for name in CV_SCORING:
        sign = -1.0 if name == "brier" else 1.0  # sklearn maximises, so Brier comes negated
        cv[name] = float(sign * results[f"mean_test_{name}"][best])
        cv[f"{name}_std"] = float(results[f"std_test_{name}"][best])
    grid_results = [
        {"params": _strip(p), "roc_auc": float(m), "roc_auc_std": float(s)}
        for p, m, s in zip(results["params"], results["mean_test_roc_auc"], results["std_test_roc_auc"], strict=True)
    ]
    grid_size = int(np.prod([len(v) for v in candidate.grid.values()]))
    estimator = float32_exact(search.best_estimator_)
    return Tuned(candidate, estimator, _strip(search.best_params_), cv, folds, grid_size, grid_results)


def float32_exact(pipeline: Pipeline) -> Pipeline:
    """Makes the tree thresholds float32 numbers, in place, without changing any prediction.

    The ONNX graph compares float32 inputs with float32 thresholds; scikit-learn compares with
    float64 thresholds, often midpoints like 30.4499998 (between 30.4 and 30.5 as float32). Cast to
    float32 such a threshold can round *up* onto a real input value (30.45), which then goes left
    in ONNX and right in scikit-learn: a parity break of up to ~0.01 for inputs the training data
    did not contain. Replacing every threshold t by the largest float32 <= t splits every float32
    input exactly as before (and the pipeline only ever sees float32 values, see to_frames), so
    scikit-learn's predictions are unchanged and the ONNX cast becomes exact.
    """
    model = pipeline.steps[-1][1]
    if isinstance(model, LGBMClassifier):
        _lightgbm_float32_exact(model)
    if isinstance(model, HistGradientBoostingClassifier):
        for predictors in model._predictors:
            for predictor in predictors:
                nodes = predictor.nodes
                split = nodes["is_leaf"] == 0
                t64 = nodes["num_threshold"][split]
                t32 = t64.astype(np.float32)
                up = t32.astype(np.float64) > t64
                t32[up] = np.nextafter(t32[up], np.float32(-np.inf))
                nodes["num_threshold"][split] = t32.astype(np.float64)
    return pipeline


def _float32_floor(value: float) -> float:
    """The largest float32 <= value, as a float."""
    f = np.float32(value)
    if float(f) > value:
        f = np.nextafter(f, np.float32(-np.inf))
    return float(f)


def _lightgbm_float32_exact(model: LGBMClassifier) -> None:
    """float32_exact for LightGBM: its trees live in the booster's text model, so the thresholds
    are rewritten there (`tree_sizes`, the byte length of each tree, is dropped: LightGBM then
    reads the trees in order) and the booster is rebuilt from the text."""

    def floor_all(match: re.Match) -> str:
        return "threshold=" + " ".join(repr(_float32_floor(float(v))) for v in match.group(1).split(" "))

    text = model.booster_.model_to_string()
    text = re.sub(r"^threshold=([^\n]*)$", floor_all, text, flags=re.M)
    text = re.sub(r"^tree_sizes=[^\n]*\n", "", text, flags=re.M)
    model._Booster = lightgbm.Booster(model_str=text)


def _strip(params: dict) -> dict:
    return {k.removeprefix("model__"): _plain(v) for k, v in params.items()}


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


def model_params(tuned: Tuned) -> dict:
    """Every parameter of the fitted classifier, JSON-safe (the tuned ones included)."""
    params = tuned.estimator.named_steps["model"].get_params(deep=False)
    out = {}
    for k, raw in sorted(params.items()):
        v = _plain(raw)
        if v is None or isinstance(v, (bool, int, float, str)):
            out[k] = v
        else:
            out[k] = repr(v)
    return out


def out_of_fold(tuned: Tuned, X: pd.DataFrame, y: pd.Series, seed: int) -> np.ndarray:
    """Out-of-fold probabilities of the tuned configuration on the training split: scores the
    model did not train on, without touching the test split (used to place risk thresholds)."""
    return cross_val_predict(
        clone(tuned.estimator), X, y, cv=cv_splitter(seed, tuned.cv_folds), method="predict_proba", n_jobs=1
    )[:, 1]


def metrics(y_true: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    predicted = (proba >= DECISION_THRESHOLD).astype(int)
    return {
        "roc_auc": float(roc_auc_score(y_true, proba)),
        "pr_auc": float(average_precision_score(y_true, proba)),
        "f1": float(f1_score(y_true, predicted)),
        "precision": float(precision_score(y_true, predicted, zero_division=0)),
        "recall": float(recall_score(y_true, predicted)),
        "accuracy": float(accuracy_score(y_true, predicted)),
        "brier": float(brier_score_loss(y_true, proba)),
    }
