"""Risk thresholds on the probability, and the reference distributions kept for drift detection."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from .schema import FEATURES

# Low: customers among whom at most 1 in 10 churns (the base rate is ~1 in 4): leave them be.
LOW_MAX_CHURN_RATE = 0.10
# High: customers among whom at least 2 in 3 churn: worth a retention offer each.
HIGH_MIN_PRECISION = 2 / 3
CUT_STEP = 0.01
CATEGORY_RULE = "a probability p gets the first category (in order) whose max >= p"

SCORE_EDGES = [round(k / 10, 1) for k in range(11)]
MAX_NUMERIC_BINS = 10
SHARE_DECIMALS = 6


def _cuts() -> np.ndarray:
    return np.round(np.arange(CUT_STEP, 1.0, CUT_STEP), 2)


def choose_thresholds(proba: np.ndarray, y: np.ndarray) -> tuple[float, float, list[str]]:
    """(low_max, medium_max, notes) from out-of-fold probabilities of the training split."""
    notes: list[str] = []
    cuts = _cuts()
    low = [c for c in cuts if (proba <= c).any() and y[proba <= c].mean() <= LOW_MAX_CHURN_RATE]
    if low:
        a = float(max(low))
    else:
        a = float(cuts[0])
        notes.append(f"no cut kept the churn rate at or below it under {LOW_MAX_CHURN_RATE:.0%}; Low fell back to {a}")
    high = [c for c in cuts if c > a and (proba > c).any() and y[proba > c].mean() >= HIGH_MIN_PRECISION]
    if high:
        b = float(min(high))
    else:
        b = float(min(0.99, max(a + CUT_STEP, np.round(np.quantile(proba, 0.9), 2))))
        notes.append(
            f"no cut above {a} reached precision {HIGH_MIN_PRECISION:.2f}; High fell back to the top decile ({b})"
        )
    return a, b, notes


def thresholds(a: float, b: float) -> list[dict]:
    return [{"category": "Low", "max": a}, {"category": "Medium", "max": b}, {"category": "High", "max": 1.0}]


def band_stats(proba: np.ndarray, y: np.ndarray, a: float, b: float) -> dict:
    bands = {"Low": proba <= a, "Medium": (proba > a) & (proba <= b), "High": proba > b}
    positives = max(int(y.sum()), 1)
    out = {}
    for name, mask in bands.items():
        n = int(mask.sum())
        out[name] = {
            "rows": n,
            "share": round(n / len(proba), 4),
            "churn_rate": round(float(y[mask].mean()), 4) if n else None,
            "share_of_churners": round(float(y[mask].sum()) / positives, 4),
        }
    return out


def rationale(a: float, b: float, oof: dict, test: dict, notes: list[str]) -> str:
    text = (
        f"Cuts on the churn probability, placed on out-of-fold predictions of the chosen configuration "
        f"on the training split (never on the test split), in {CUT_STEP} steps. "
        f"Low (p <= {a}): the largest cut where the churn rate among customers at or below it stays at most "
        f"{LOW_MAX_CHURN_RATE:.0%} (base rate ~26.5%): {oof['Low']['share']:.0%} of training customers, "
        f"{oof['Low']['churn_rate']:.1%} of them churn; on the test split {test['Low']['share']:.0%} and "
        f"{test['Low']['churn_rate']:.1%}. "
        f"High (p > {b}): the smallest cut where at least two in three ({HIGH_MIN_PRECISION:.1%}) of customers above it churn "
        f"(precision at the cut): {oof['High']['share']:.0%} of training customers, precision "
        f"{oof['High']['churn_rate']:.1%}, catching {oof['High']['share_of_churners']:.0%} of churners; on the test split "
        f"{test['High']['share']:.0%}, precision {test['High']['churn_rate']:.1%}, recall {test['High']['share_of_churners']:.0%}. "
        f"Medium in between. Rule: {CATEGORY_RULE}."
    )
    if notes:
        text += " Note: " + "; ".join(notes) + "."
    return text


def _shares(counts: np.ndarray, total: int) -> list[float]:
    return [round(float(c) / total, SHARE_DECIMALS) if total else 0.0 for c in counts]


def numeric_edges(values: np.ndarray) -> list[float]:
    """Bin edges: midpoints between the distinct values when there are few of them (flags, small
    counts), else deciles; always from the minimum to the maximum. Rounded to 4 decimals for
    people (float32 data shows as 266.970007); shares are counted with the rounded edges."""
    distinct = np.unique(values)
    if len(distinct) <= MAX_NUMERIC_BINS:
        inner = [(float(lo) + float(hi)) / 2 for lo, hi in itertools.pairwise(distinct)]
        raw = [float(distinct[0]), *inner, float(distinct[-1])]
    else:
        raw = [float(q) for q in np.quantile(values, np.linspace(0, 1, MAX_NUMERIC_BINS + 1))]
    edges = sorted({round(e, 4) for e in raw})
    return edges if len(edges) > 1 else [edges[0], edges[0]]


def histogram(values: np.ndarray, edges: list[float]) -> list[int]:
    """Counts per bin under the documented rule: bin i is [edges[i], edges[i+1]), the last bin is
    closed, and values outside [edges[0], edges[-1]] count in the first or last bin."""
    inner = np.asarray(edges[1:-1], dtype=np.float64)
    index = np.searchsorted(inner, values, side="right")
    return np.bincount(index, minlength=len(edges) - 1).tolist()


def feature_reference(X: pd.DataFrame) -> dict:
    out: dict = {}
    for f in FEATURES:
        column = X[f.name]
        if f.kind == "categorical":
            counts = column.value_counts()
            out[f.name] = {
                "type": "categorical",
                "categories": {c: round(float(counts.get(c, 0)) / len(column), SHARE_DECIMALS) for c in f.categories},
            }
        else:
            values = column.to_numpy(dtype=np.float64)
            present = values[~np.isnan(values)]
            edges = numeric_edges(present)
            out[f.name] = {
                "type": "numeric",
                "edges": edges,
                "shares": _shares(np.asarray(histogram(present, edges)), len(present)),
                "missing_share": round(float(np.isnan(values).mean()), SHARE_DECIMALS),
            }
    return out


def score_reference(proba: np.ndarray) -> dict:
    return {"edges": SCORE_EDGES, "shares": _shares(np.asarray(histogram(proba, SCORE_EDGES)), len(proba))}


REFERENCE_RULE = (
    "Numeric features and the score: bin i covers [edges[i], edges[i+1]), the last bin is closed, values outside "
    "[edges[0], edges[-1]] count in the first or last bin; shares are over present values and sum to 1, "
    "missing_share is the share of rows where the value is missing (null/NaN). Categorical features: "
    "share of each allowed category."
)
