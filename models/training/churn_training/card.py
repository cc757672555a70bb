"""model.json (the machine-readable model card) and MODEL_CARD.md (the same, for people)."""

from __future__ import annotations

import platform

import lightgbm
import numpy as np
import onnx
import onnxmltools
import onnxruntime
import pandas as pd
import skl2onnx
import sklearn
import sklearn.inspection
from sklearn.metrics import roc_auc_score

from . import export, reference
from .modeling import BASELINE_KEY, DECISION_THRESHOLD, GBM_KEY, LIGHTGBM_KEY, TOTAL_CHARGES_FILL, Tuned
from .schema import FIXED_FEATURES, FIXED_FEATURES_RATIONALE, LABEL_COLUMN, POSITIVE_LABEL, feature_specs

ALGORITHMS = {
    BASELINE_KEY: "LogisticRegression",
    GBM_KEY: "HistGradientBoostingClassifier",
    LIGHTGBM_KEY: "LGBMClassifier",
}
NAMES = {
    BASELINE_KEY: "Logistic regression (baseline)",
    GBM_KEY: "Histogram gradient boosting",
    LIGHTGBM_KEY: "LightGBM",
}
METRIC_NAMES = ("roc_auc", "pr_auc", "f1", "precision", "recall", "accuracy", "brier")
PREPROCESSING = {
    BASELINE_KEY: [
        f"TotalCharges: missing (blank in the CSV, null/NaN when served) imputed with {TOTAL_CHARGES_FILL} (no bill issued yet at tenure 0), then standardised",
        "SeniorCitizen, tenure, MonthlyCharges: standardised",
        "15 categorical features: one-hot, unknown categories encode as all zeros (handle_unknown='ignore')",
    ],
    GBM_KEY: [
        f"TotalCharges: missing (blank in the CSV, null/NaN when served) imputed with {TOTAL_CHARGES_FILL} (no bill issued yet at tenure 0)",
        "SeniorCitizen, tenure, MonthlyCharges: passed through (trees need no scaling)",
        "15 categorical features: one-hot, unknown categories encode as all zeros (handle_unknown='ignore')",
    ],
}
PREPROCESSING[LIGHTGBM_KEY] = PREPROCESSING[GBM_KEY]


def description(key: str) -> str:
    kind = {
        GBM_KEY: "gradient-boosted trees; imputation and one-hot encoding are inside the graph",
        LIGHTGBM_KEY: "gradient-boosted trees (LightGBM); imputation and one-hot encoding are inside the graph",
        BASELINE_KEY: "logistic regression; imputation, one-hot encoding and scaling are inside the graph",
    }[key]
    return f"Probability that a telecom customer churns, from the 19 raw customer attributes of the IBM Telco churn sample ({kind})."


def permutation_importance(pipeline, X_test: pd.DataFrame, y: np.ndarray, seed: int) -> dict:
    """Mean ROC AUC lost on the test split when one raw feature is shuffled (3 repeats), largest first."""
    result = sklearn.inspection.permutation_importance(
        pipeline, X_test, y, scoring="roc_auc", n_repeats=3, random_state=seed, n_jobs=1
    )
    pairs = sorted(zip(X_test.columns, result.importances_mean, strict=True), key=lambda kv: -kv[1])
    return {name: round(float(value), 4) for name, value in pairs}


def group_metrics(X_test: pd.DataFrame, y: np.ndarray, proba: np.ndarray, high_cut: float) -> dict:
    """Per-group behaviour on the test split for the attributes a fairness review asks about first."""
    out: dict = {}
    for column, labels in (("gender", None), ("SeniorCitizen", {0.0: "0", 1.0: "1"})):
        groups: dict = {}
        values = X_test[column].to_numpy()
        for value in sorted(pd.unique(values)):
            mask = values == value
            yy, pp = y[mask], proba[mask]
            predicted = pp >= DECISION_THRESHOLD
            groups[labels[value] if labels else str(value)] = {
                "rows": int(mask.sum()),
                "churn_rate": round(float(yy.mean()), 4),
                "mean_probability": round(float(pp.mean()), 4),
                "roc_auc": round(float(roc_auc_score(yy, pp)), 4) if 0 < yy.sum() < len(yy) else None,
                "recall": round(float(predicted[yy == 1].mean()), 4) if yy.sum() else None,
                "false_positive_rate": round(float(predicted[yy == 0].mean()), 4) if (yy == 0).any() else None,
                "high_risk_share": round(float((pp > high_cut).mean()), 4),
            }
        out[column] = groups
    return out


def _opsets(model: onnx.ModelProto) -> dict:
    return {(o.domain or "ai.onnx"): int(o.version) for o in sorted(model.opset_import, key=lambda o: o.domain)}


def _tensor_type(value_info) -> str:
    elem = value_info.type.tensor_type.elem_type
    return {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.STRING: "string", onnx.TensorProto.INT64: "int64"}.get(
        elem, onnx.TensorProto.DataType.Name(elem).lower()
    )


def _shape(value_info) -> list:
    return [d.dim_value if d.HasField("dim_value") else None for d in value_info.type.tensor_type.shape.dim]


def model_json(
    *,
    name,
    version,
    created,
    description,
    data_path,
    data_sha,
    rows,
    positive_share,
    blank_total_charges,
    chosen: Tuned,
    chosen_params,
    tuned: dict[str, Tuned],
    test_metrics,
    cv_key,
    split,
    onnx_model,
    onnx_bytes,
    parity,
    parity_rows,
    risk,
    risk_rationale,
    bands,
    feature_ref,
    score_ref,
    groups,
    importance,
    fast,
    folds,
    named: bool = False,
    previous: dict | None = None,
) -> dict:
    """`named`: the algorithm was named with --algorithm (not chosen by test ROC AUC). `previous`:
    the card of the version this one follows, whose test metrics are shown beside this one's."""
    chosen_key = chosen.candidate.key
    lgbm = chosen_key == LIGHTGBM_KEY

    def cv_block(t):
        return {
            "roc_auc": t.cv["roc_auc"],
            "roc_auc_std": t.cv["roc_auc_std"],
            "pr_auc": t.cv["pr_auc"],
            "brier": t.cv["brier"],
        }

    card = {
        "name": name,
        "version": version,
        "created": created,
        "description": description,
        "training_data": {
            "path": data_path,
            "sha256": data_sha,
            "rows": rows,
            "positive_share": round(positive_share, 6),
            "label": {"column": LABEL_COLUMN, "positive": POSITIVE_LABEL},
            "blank_total_charges_rows": blank_total_charges,
        },
        "algorithm": {
            "name": ALGORITHMS[chosen_key],
            "key": chosen_key,
            "library": (
                f"LightGBM {lightgbm.__version__} (scikit-learn API), ONNX by onnxmltools {onnxmltools.__version__}"
                if lgbm
                else f"scikit-learn {sklearn.__version__}"
            ),
            "params": chosen_params,
            "tuned": sorted(chosen.best_params),
            "preprocessing": PREPROCESSING[chosen_key],
        },
        "selection": {
            "rule": (
                f"named on the command line (--algorithm {chosen_key}); the baseline is tuned and tested beside it."
                if named
                else "highest test ROC AUC; ties go to the baseline. CV ROC AUC on the training split is recorded beside it."
            ),
            "chosen": chosen_key,
            "chosen_by_cv_would_be": cv_key,
            "candidates": {
                key: {
                    "algorithm": ALGORITHMS[key],
                    "params": t.best_params,
                    "grid_size": t.grid_size,
                    "test_roc_auc": test_metrics[key]["roc_auc"],
                    "cv_roc_auc": t.cv["roc_auc"],
                    "cv_roc_auc_std": t.cv["roc_auc_std"],
                    "grid": t.grid_results,
                }
                for key, t in tuned.items()
            },
        },
        "metrics": {
            "decision_threshold": DECISION_THRESHOLD,
            "split": split,
            "test": test_metrics[chosen_key],
            "baseline": test_metrics[BASELINE_KEY],
            "cv": {
                "folds": folds,
                "on": "training split, stratified, shuffled with the seed",
                "chosen": cv_block(chosen),
                "baseline": cv_block(tuned[BASELINE_KEY]),
            },
            "groups": groups,
            "permutation_importance": importance,
        },
        "onnx": {
            "file": "model.onnx",
            "sha256": export.sha256_bytes(onnx_bytes),
            "bytes": len(onnx_bytes),
            "opset": _opsets(onnx_model).get("ai.onnx"),
            "opsets": _opsets(onnx_model),
            "producer": f"{onnx_model.producer_name} ({onnx_model.producer_version})",
            "inputs": [{"name": i.name, "type": _tensor_type(i), "shape": _shape(i)} for i in onnx_model.graph.input],
            "outputs": [{"name": o.name, "type": _tensor_type(o), "shape": _shape(o)} for o in onnx_model.graph.output],
        },
        "parity": {**parity, "file": "parity.json", "file_rows": parity_rows},
        "features": feature_specs(),
        "output": dict(export.OUTPUT),
        "answer": dict(export.ANSWER),
        "risk_thresholds": risk,
        "risk_thresholds_rule": reference.CATEGORY_RULE,
        "risk_thresholds_rationale": risk_rationale,
        "risk_thresholds_evaluation": bands,
        "fixed_features": list(FIXED_FEATURES),
        "fixed_features_rationale": FIXED_FEATURES_RATIONALE,
        "reference": {
            "rule": reference.REFERENCE_RULE,
            "features_source": f"the whole validated training data set ({rows} rows)",
            "score_source": f"the chosen model's probabilities on the test split ({split['test_rows']} rows, not seen in training)",
            "features": feature_ref,
            "score": score_ref,
        },
        "training": {
            "seed": split["seed"],
            "test_size": split["test_size"],
            "cv_folds": folds,
            "fast": fast,
            "command": "bash models/training/train.sh"
            + (f" --algorithm {chosen_key}" if named else "")
            + (" --fast" if fast else f" --version {version}"),
            "environment": {
                "python": platform.python_version(),
                "scikit-learn": sklearn.__version__,
                "numpy": np.__version__,
                "pandas": pd.__version__,
                "skl2onnx": skl2onnx.__version__,
                "onnx": onnx.__version__,
                "onnxruntime": onnxruntime.__version__,
                **({"lightgbm": lightgbm.__version__, "onnxmltools": onnxmltools.__version__} if lgbm else {}),
            },
        },
    }
    if previous is not None:
        card["previous"] = {
            "version": previous["version"],
            "algorithm": previous["algorithm"]["name"],
            "test": previous["metrics"]["test"],
            "cv_roc_auc": previous["metrics"]["cv"]["chosen"]["roc_auc"],
        }
    return card


# ---------------------------------------------------------------- MODEL_CARD.md


def _f(value, digits=4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _pct(value) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def markdown(card: dict) -> str:
    m = card["metrics"]
    sel = card["selection"]
    chosen_key = card["algorithm"]["key"]
    cands = sel["candidates"]
    base, test = m["baseline"], m["test"]
    cv_c, cv_b = m["cv"]["chosen"], m["cv"]["baseline"]
    split = m["split"]
    data = card["training_data"]
    thr = card["risk_thresholds"]
    ev = card["risk_thresholds_evaluation"]
    fast_note = (
        "\n> **Fast run** (`--fast`: small grid, 3 folds). Not a release artifact: retrain without `--fast`.\n"
        if card["training"]["fast"]
        else ""
    )
    chosen_name = {
        BASELINE_KEY: "logistic regression",
        GBM_KEY: "histogram gradient boosting",
        LIGHTGBM_KEY: "LightGBM",
    }[chosen_key]
    named = sel["rule"].startswith("named")
    gap = test["roc_auc"] - cv_c["roc_auc"]
    lines = [
        f"# Model card: {card['name']} v{card['version']}",
        fast_note,
        f"{card['description']}",
        "",
        "| | |",
        "|---|---|",
        f"| Model | `{card['name']}` version {card['version']}, created {card['created']} |",
        f"| Algorithm | {card['algorithm']['name']} ({card['algorithm']['library']}) |",
        f"| Test ROC AUC | **{_f(test['roc_auc'])}** (baseline logistic regression {_f(base['roc_auc'])}) |",
        f"| Artifact | `model.onnx`, {card['onnx']['bytes']:,} bytes, sha256 `{card['onnx']['sha256'][:16]}…`, opsets {card['onnx']['opsets']} |",
        f"| Training data | `{data['path']}`, {data['rows']:,} rows, {data['positive_share']:.1%} churn, sha256 `{data['sha256'][:16]}…` |",
        f"| Parity | ONNX Runtime vs scikit-learn on all {card['parity']['rows']} test rows: max abs diff {card['parity']['max_abs_diff']:.2g} (tolerance {card['parity']['tolerance']:g}) |",
        "",
        "## Intended use",
        "",
        "Ranks existing customers of a subscription telecom business by their probability of leaving, so that",
        "retention work (a call, an offer) goes to the customers most likely to churn. The output is a",
        "probability (column 1 of `probabilities`) and a risk category (Low / Medium / High, below).",
        "",
        "Not for: decisions about individuals that carry legal or similarly significant effects (pricing, credit,",
        "termination of service); customers unlike those of the sample (other countries, products, business",
        "customers); estimating *why* a given customer leaves (the model is correlational).",
        "",
        "## Data",
        "",
        'IBM\'s public "Telco Customer Churn" sample (Apache-2.0), the 85% share kept in this repository:',
        f"`{data['path']}` ({data['rows']:,} customers, one row each, {data['positive_share']:.1%} churned,",
        f"sha256 `{data['sha256']}`). The data is validated against an explicit schema before training",
        "(columns, types, allowed categories, ranges, labels, duplicate ids, cross-column consistency); any",
        "violation stops the run with a report naming row, column, value and rule.",
        "",
        f"Known quirk, handled explicitly: `TotalCharges` is blank for the {data['blank_total_charges_rows']} customers with",
        "`tenure` 0 (no bill yet). Validation accepts a blank only with tenure 0; the pipeline reads it as missing",
        "and the graph imputes 0, its true value. When serving, `TotalCharges` is optional: send `null` (NaN).",
        "",
        f"Split: stratified, {1 - split['test_size']:.0%} train ({split['train_rows']:,} rows) / {split['test_size']:.0%} test ({split['test_rows']:,} rows), seed {split['seed']}.",
        "",
        "## Features (the serving contract)",
        "",
        "One ONNX input per feature, named exactly as the CSV column, shape `[N, 1]`: `string` for categoricals,",
        "`float32` for numerics. All preprocessing is inside the graph:",
        "",
        *[f"- {step}" for step in card["algorithm"]["preprocessing"]],
        "",
        "| Feature | Kind | Type | Required | Allowed values / range |",
        "|---|---|---|---|---|",
        *[_feature_row(f) for f in card["features"]],
        "",
        "Outputs: `label` (int64 `[N]`, 1 = churn at probability >= 0.5) and `probabilities` (float32 `[N, 2]`,",
        "column 1 = churn). No ZipMap. Unknown categories do not crash the graph (they encode as all zeros), but",
        "the serving side rejects them before inference using the categories above.",
        "",
        "## Model and selection",
        "",
        "Two candidates, each tuned by grid search with stratified "
        f"{m['cv']['folds']}-fold cross-validation (ROC AUC) on the training split, fixed seeds:",
        "",
        "| Candidate | Best parameters | Configs | CV ROC AUC (mean ± sd) | Test ROC AUC |",
        "|---|---|---|---|---|",
        *[
            f"| {card_name(k)} | {_params(c['params'])} | {c['grid_size']} | {_f(c['cv_roc_auc'])} ± {_f(c['cv_roc_auc_std'])} | {_f(c['test_roc_auc'])} |"
            for k, c in cands.items()
        ],
        "",
        *(
            [
                f"Chosen: **{chosen_name}**, named on the command line (`--algorithm {chosen_key}`); the baseline is",
                "tuned and tested beside it, so the test number is not optimistic from selection. By CV ROC AUC the",
                f"better candidate is **{card_name(sel['chosen_by_cv_would_be']).lower()}**.",
            ]
            if named
            else [
                f"Chosen: **{chosen_name}**, by test ROC AUC. Selecting on the test split makes the",
                "reported test number slightly optimistic (it is also the selection criterion), so the cross-validated",
                f"ROC AUC is reported beside it. Here CV would have chosen **{card_name(sel['chosen_by_cv_would_be']).lower()}**"
                + (
                    " too, so the two rules agree."
                    if sel["chosen_by_cv_would_be"] == chosen_key
                    else ": the rules disagree, and the difference between the candidates is within noise."
                ),
            ]
        ),
        "",
        *_previous_section(card),
        "## Metrics",
        "",
        f"Test split ({split['test_rows']:,} rows; never used for training, tuning or thresholds, only to choose between the two tuned candidates).",
        f"F1, precision, recall and accuracy at probability >= {m['decision_threshold']}.",
        "",
        "| Metric | Chosen, test | Baseline LR, test | Chosen, CV | Baseline LR, CV |",
        "|---|---|---|---|---|",
        f"| ROC AUC | **{_f(test['roc_auc'])}** | {_f(base['roc_auc'])} | {_f(cv_c['roc_auc'])} ± {_f(cv_c['roc_auc_std'])} | {_f(cv_b['roc_auc'])} ± {_f(cv_b['roc_auc_std'])} |",
        f"| PR AUC (average precision) | {_f(test['pr_auc'])} | {_f(base['pr_auc'])} | {_f(cv_c['pr_auc'])} | {_f(cv_b['pr_auc'])} |",
        f"| F1 | {_f(test['f1'])} | {_f(base['f1'])} | | |",
        f"| Precision | {_f(test['precision'])} | {_f(base['precision'])} | | |",
        f"| Recall | {_f(test['recall'])} | {_f(base['recall'])} | | |",
        f"| Accuracy | {_f(test['accuracy'])} | {_f(base['accuracy'])} | | |",
        f"| Brier score (lower is better) | {_f(test['brier'])} | {_f(base['brier'])} | {_f(cv_c['brier'])} | {_f(cv_b['brier'])} |",
        "",
        "### Where the ROC AUC lands, and why",
        "",
        f"Test ROC AUC {_f(test['roc_auc'], 3)}, against published results of 0.83–0.86 on this data set and the",
        f"target of 0.84. Cross-validation on the training split gives {_f(cv_c['roc_auc'], 3)} ± {_f(cv_c['roc_auc_std'], 3)}:",
        f"the test number is {abs(gap):.3f} {'above' if gap >= 0 else 'below'} it, {abs(gap) / cv_c['roc_auc_std']:.1f} fold standard deviations;",
        "a test split is about as large as a fold, so a single split moves by that much. Expect about the CV figure",
        "on new customers of the same population.",
        "The ceiling is the data, not the learner: 19 coarse attributes, most of them yes/no, and the signal is",
        "dominated by a few nearly monotone effects. Permutation importance on the test split (ROC AUC lost when a",
        f"feature is shuffled): {_importance(m['permutation_importance'])}. A linear model captures most of it,",
        f"which is why the baseline is within {abs(test['roc_auc'] - base['roc_auc']):.3f} of the boosted trees, and why deeper",
        "or longer boosting over-fits (lower CV AUC) instead of helping.",
        "",
        "## Risk categories",
        "",
        "| Category | Probability | Train (out-of-fold): share / churn rate | Test: share / churn rate |",
        "|---|---|---|---|",
        *[
            f"| {t['category']} | {_band_range(thr, i)} | {_pct(ev['train_out_of_fold'][t['category']]['share'])} / {_pct(ev['train_out_of_fold'][t['category']]['churn_rate'])} | {_pct(ev['test'][t['category']]['share'])} / {_pct(ev['test'][t['category']]['churn_rate'])} |"
            for i, t in enumerate(thr)
        ],
        "",
        card["risk_thresholds_rationale"],
        "",
        "## Reference distributions (for drift detection)",
        "",
        "`model.json` → `reference`: a histogram of every feature (over the whole training data set) and of the",
        "score (the chosen model's probabilities on the test split, ten bins of 0.1). " + card["reference"]["rule"],
        "",
        "## What a business can change",
        "",
        f"Fixed (`model.json` → `fixed_features`): {', '.join(f'`{n}`' for n in card['fixed_features'])}. "
        + card["fixed_features_rationale"],
        "",
        "## Fairness note",
        "",
        "`gender` and `SeniorCitizen` are model inputs because they are in the data set; neither is needed for the",
        "intended use, and a deployment that acts on scores should review whether to keep them. Test-split behaviour",
        f"by group (recall and false-positive rate at probability >= {m['decision_threshold']}; High = above {thr[1]['max']}):",
        "",
        "| Group | Rows | Churn rate | Mean probability | ROC AUC | Recall | False-positive rate | High share |",
        "|---|---|---|---|---|---|---|---|",
        *[
            f"| {column} = {value} | {g['rows']} | {_pct(g['churn_rate'])} | {_pct(g['mean_probability'])} | {_f(g['roc_auc'], 3)} | {_pct(g['recall'])} | {_pct(g['false_positive_rate'])} | {_pct(g['high_risk_share'])} |"
            for column, groups in m["groups"].items()
            for value, g in groups.items()
        ],
        "",
        *_fairness_text(m["groups"], m["decision_threshold"]),
        "",
        "## Limitations",
        "",
        "- A single, public, fairly old sample of one (US, consumer) telecom business; no time dimension, so the",
        "  split is random rather than out-of-time and real-world performance on future customers may be lower.",
        "- The label is churn within one unspecified period; scores are not calibrated to any other horizon.",
        "- The model has never seen inconsistent rows (e.g. `PhoneService` No with `MultipleLines` Yes): the training",
        "  validation rejects them, the serving schema checks each field on its own. Tenures above 72 months and charges",
        "  beyond the sample's range are valid but unseen: the trees score them like the largest values they saw.",
        "- Brier score and the per-group means show the probabilities are reasonably calibrated on this sample;",
        "  recalibrate before using them as absolute probabilities elsewhere.",
        "- The test metrics come from one split of ~1,200 rows: ±0.01 ROC AUC is noise.",
        "",
        "## How to retrain",
        "",
        "```bash",
        "bash models/training/train.sh                 # next version: models/churn/<highest + 1>/",
        f"bash models/training/train.sh --version {card['version']}     # rewrite this version (same data and seed: same metrics, same model.onnx)",
        "bash models/training/train.sh --fast          # small grid into a temp dir (CI)",
        "bash models/training/test.sh                  # the pipeline's tests",
        "```",
        "",
        f"Environment: {_params(card['training']['environment'])}. Runs are logged to MLflow",
        "(`models/training/mlruns` by default, `MLFLOW_TRACKING_URI` when set).",
        "",
    ]
    return "\n".join(lines)


def _previous_section(card: dict) -> list[str]:
    """This version's test metrics beside the version it follows (same data, split and seed)."""
    prev = card.get("previous")
    if prev is None:
        return []
    test = card["metrics"]["test"]
    rows = [
        f"| {label} | **{_f(test[key])}** | {_f(prev['test'][key])} | {test[key] - prev['test'][key]:+.4f} |"
        for key, label in (
            ("roc_auc", "ROC AUC"),
            ("pr_auc", "PR AUC"),
            ("f1", "F1"),
            ("precision", "Precision"),
            ("recall", "Recall"),
            ("accuracy", "Accuracy"),
            ("brier", "Brier score (lower is better)"),
        )
    ]
    return [
        f"### Compared with version {prev['version']}",
        "",
        f"Version {prev['version']} ({prev['algorithm']}) on the same test split (same data, split and seed):",
        "",
        f"| Metric (test) | This version ({card['algorithm']['name']}) | Version {prev['version']} | Difference |",
        "|---|---|---|---|",
        *rows,
        f"| CV ROC AUC | {_f(card['metrics']['cv']['chosen']['roc_auc'])} | {_f(prev['cv_roc_auc'])} | "
        f"{card['metrics']['cv']['chosen']['roc_auc'] - prev['cv_roc_auc']:+.4f} |",
        "",
    ]


def _fairness_text(groups: dict, threshold: float) -> list[str]:
    senior, other = groups["SeniorCitizen"].get("1"), groups["SeniorCitizen"].get("0")
    female, male = groups["gender"].get("Female"), groups["gender"].get("Male")
    out = []
    if senior and other:
        out.append(
            f"Senior citizens churn {'more' if senior['churn_rate'] > other['churn_rate'] else 'less'} often in this sample "
            f"({_pct(senior['churn_rate'])} against {_pct(other['churn_rate'])}). The model's mean probability per group "
            f"follows the observed rate ({_pct(senior['mean_probability'])} and {_pct(other['mean_probability'])}), so it is "
            f"about as calibrated for one group as for the other; the consequence is that seniors land in High "
            f"{_pct(senior['high_risk_share'])} of the time against {_pct(other['high_risk_share'])}, and their "
            f"false-positive rate at {threshold} is {_pct(senior['false_positive_rate'])} against "
            f"{_pct(other['false_positive_rate'])}. Whether that is acceptable depends on what High triggers: an "
            "intervention that benefits the customer (an offer) is a different case from one that does not. The senior "
            f"group is small ({senior['rows']} test rows), so its numbers carry several points of sampling error."
        )
    if female and male:
        out.append("")
        out.append(
            f"By gender the churn rates ({_pct(female['churn_rate'])} female, {_pct(male['churn_rate'])} male) and the mean "
            f"probabilities ({_pct(female['mean_probability'])}, {_pct(male['mean_probability'])}) are close; ROC AUC "
            f"{_f(female['roc_auc'], 3)} against {_f(male['roc_auc'], 3)} (groups of ~{min(female['rows'], male['rows'])} rows: a "
            "difference of 0.02-0.03 is within sampling error). Dropping `gender` is an option for a future version; "
            "it carries almost no signal here."
        )
    return out


def _importance(importance: dict, top: int = 5) -> str:
    return ", ".join(f"`{name}` {value:.3f}" for name, value in list(importance.items())[:top])


def card_name(key: str) -> str:
    return NAMES[key]


def _params(params: dict) -> str:
    return ", ".join(f"`{k}={v}`" for k, v in params.items())


def _band_range(thr: list[dict], i: int) -> str:
    lo = 0.0 if i == 0 else thr[i - 1]["max"]
    return f"[0, {thr[0]['max']}]" if i == 0 else f"({lo}, {thr[i]['max']}]"


def _feature_row(f: dict) -> str:
    if f["kind"] == "categorical":
        allowed = ", ".join(f"`{c}`" for c in f["categories"])
    else:
        lo = "-∞" if f.get("min") is None else f["min"]
        hi = "∞" if f.get("max") is None else f["max"]
        allowed = f"[{lo}, {hi}]" + (", integer" if f.get("integer") else "")
    required = "yes" if f["required"] else "no (default null = NaN, imputed in the graph)"
    return f"| `{f['name']}` | {f['kind']} | {f['dtype']} | {required} | {allowed} |"
