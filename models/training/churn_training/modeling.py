"""The sklearn pipelines (all preprocessing inside, so the ONNX graph takes raw features), tuning, metrics."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
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
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .schema import CATEGORICAL_FEATURES

# TotalCharges is missing only where tenure == 0, i.e. before the first bill: 0 is its true value.
TOTAL_CHARGES_FILL = 0.0
DECISION_THRESHOLD = 0.5  # for label/F1/precision/recall/accuracy; the score itself is the product


def _preprocessor(scale: bool) -> ColumnTransformer:
    def numeric(*steps):
        chain = list(steps) + ([("scale", StandardScaler())] if scale else [])
        return Pipeline(chain) if chain else "passthrough"

    return ColumnTransformer(
        [
            ("total_charges", numeric(("impute", SimpleImputer(strategy="constant", fill_value=TOTAL_CHARGES_FILL))), ["TotalCharges"]),
            ("numeric", numeric(), ["SeniorCitizen", "tenure", "MonthlyCharges"]),
            # Unknown categories encode as all-zeros rather than failing inside the graph; the
            # serving side rejects them earlier from the `categories` in the contract.
            ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), list(CATEGORICAL_FEATURES)),
        ],
        remainder="drop",
        sparse_threshold=0.0,
    )


@dataclass(frozen=True)
class Candidate:
    key: str  # "logistic_regression" | "hist_gradient_boosting"
    display: str
    pipeline: Pipeline
    grid: dict


def candidates(seed: int, fast: bool) -> list[Candidate]:
    lr = Pipeline([("preprocess", _preprocessor(scale=True)), ("model", LogisticRegression(max_iter=2000, solver="lbfgs"))])
    gbm = Pipeline(
        [
            ("preprocess", _preprocessor(scale=False)),
            (
                "model",
                HistGradientBoostingClassifier(
                    early_stopping=False, random_state=seed, min_samples_leaf=40, l2_regularization=1.0
                ),
            ),
        ]
    )
    if fast:
        lr_grid = {"model__C": [0.1, 1.0]}
        gbm_grid = {"model__learning_rate": [0.05], "model__max_iter": [150], "model__max_leaf_nodes": [6]}
    else:
        lr_grid = {"model__C": [0.03, 0.1, 0.3, 1.0, 3.0]}
        gbm_grid = {
            "model__learning_rate": [0.03, 0.06],
            "model__max_iter": [150, 300],
            "model__max_leaf_nodes": [4, 8],
        }
    return [
        Candidate("logistic_regression", "Logistic regression (baseline)", lr, lr_grid),
        Candidate("hist_gradient_boosting", "Histogram gradient boosting", gbm, gbm_grid),
    ]


@dataclass
class Tuned:
    candidate: Candidate
    estimator: Pipeline
    best_params: dict
    cv_roc_auc: float
    cv_folds: int
    grid_size: int


def tune(candidate: Candidate, X: pd.DataFrame, y: pd.Series, seed: int, folds: int) -> Tuned:
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    search = GridSearchCV(candidate.pipeline, candidate.grid, scoring="roc_auc", cv=cv, n_jobs=1, refit=True)
    search.fit(X, y)
    grid_size = int(np.prod([len(v) for v in candidate.grid.values()]))
    params = {k.removeprefix("model__"): v for k, v in search.best_params_.items()}
    return Tuned(candidate, search.best_estimator_, params, float(search.best_score_), folds, grid_size)


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
