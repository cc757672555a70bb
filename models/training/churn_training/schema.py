"""The raw data schema of telco-churn.csv, and its validation.

The feature specs here are the single source of the serving contract: model.json's `features`
array and the ONNX inputs are both generated from FEATURES, in this order.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

ID_COLUMN = "customerID"
LABEL_COLUMN = "Churn"
LABEL_VALUES = ("No", "Yes")  # index == encoded label
POSITIVE_LABEL = "Yes"

YES_NO = ("No", "Yes")
NO_INTERNET = ("No", "No internet service", "Yes")


@dataclass(frozen=True)
class Feature:
    name: str
    kind: str  # "numeric" | "categorical"
    categories: tuple[str, ...] = ()
    integer: bool = False
    required: bool = True
    min: float | None = None  # hard validity bounds, None = unbounded
    max: float | None = None
    # Only TotalCharges may be blank, and only where tenure == 0 (no bill issued yet).
    blank_allowed_when_tenure_zero: bool = False


# In the data set's column order; this is the ONNX input order.
FEATURES: tuple[Feature, ...] = (
    Feature("gender", "categorical", ("Female", "Male")),
    Feature("SeniorCitizen", "numeric", integer=True, min=0, max=1),
    Feature("Partner", "categorical", YES_NO),
    Feature("Dependents", "categorical", YES_NO),
    Feature("tenure", "numeric", integer=True, min=0),
    Feature("PhoneService", "categorical", YES_NO),
    Feature("MultipleLines", "categorical", ("No", "No phone service", "Yes")),
    Feature("InternetService", "categorical", ("DSL", "Fiber optic", "No")),
    Feature("OnlineSecurity", "categorical", NO_INTERNET),
    Feature("OnlineBackup", "categorical", NO_INTERNET),
    Feature("DeviceProtection", "categorical", NO_INTERNET),
    Feature("TechSupport", "categorical", NO_INTERNET),
    Feature("StreamingTV", "categorical", NO_INTERNET),
    Feature("StreamingMovies", "categorical", NO_INTERNET),
    Feature("Contract", "categorical", ("Month-to-month", "One year", "Two year")),
    Feature("PaperlessBilling", "categorical", YES_NO),
    Feature(
        "PaymentMethod",
        "categorical",
        ("Bank transfer (automatic)", "Credit card (automatic)", "Electronic check", "Mailed check"),
    ),
    Feature("MonthlyCharges", "numeric", min=0),
    Feature("TotalCharges", "numeric", min=0, required=False, blank_allowed_when_tenure_zero=True),
)

FEATURE_NAMES = tuple(f.name for f in FEATURES)
NUMERIC_FEATURES = tuple(f.name for f in FEATURES if f.kind == "numeric")
CATEGORICAL_FEATURES = tuple(f.name for f in FEATURES if f.kind == "categorical")
EXPECTED_COLUMNS = (ID_COLUMN, *FEATURE_NAMES, LABEL_COLUMN)


@dataclass(frozen=True)
class Violation:
    row: int | None  # 1-based data row (the header is not a row; file line = row + 1); None = whole file
    column: str | None
    value: str | None
    rule: str

    def __str__(self) -> str:
        where = "file" if self.row is None else f"row {self.row} (line {self.row + 1})"
        col = "" if self.column is None else f" column {self.column!r}"
        val = "" if self.value is None else f" value {self.value!r}"
        return f"{where}{col}{val}: {self.rule}"


@dataclass
class ValidationReport:
    violations: list[Violation] = field(default_factory=list)
    rows: int = 0
    blank_total_charges_rows: list[int] = field(default_factory=list)  # accepted: tenure == 0

    @property
    def ok(self) -> bool:
        return not self.violations

    def render(self) -> str:
        head = f"data validation: {len(self.violations)} violation(s) in {self.rows} row(s)"
        return "\n".join([head, *(f"  - {v}" for v in self.violations)])


class DataValidationError(Exception):
    def __init__(self, report: ValidationReport):
        super().__init__(report.render())
        self.report = report


def read_raw(path) -> pd.DataFrame:
    """Every cell as the exact string in the file: nothing is coerced or turned into NaN here."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)


def _parse_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _is_blank(text: str) -> bool:
    return text.strip() == ""


def validate(raw: pd.DataFrame) -> ValidationReport:
    """Checks every rule on every row and returns all violations (it never stops at the first)."""
    report = ValidationReport(rows=len(raw))
    out = report.violations
    columns = list(raw.columns)
    for name in EXPECTED_COLUMNS:
        if name not in columns:
            out.append(Violation(None, name, None, "missing column"))
    for name in columns:
        if name not in EXPECTED_COLUMNS:
            out.append(Violation(None, name, None, "unexpected column"))
    if len(raw) == 0:
        out.append(Violation(None, None, None, "no data rows"))

    tenure_values: dict[int, float] = {}
    if "tenure" in columns:
        for i, text in enumerate(raw["tenure"], start=1):
            number = _parse_number(text)
            if number is not None:
                tenure_values[i] = number

    if ID_COLUMN in columns:
        first_seen: dict[str, int] = {}
        for i, text in enumerate(raw[ID_COLUMN], start=1):
            if _is_blank(text):
                out.append(Violation(i, ID_COLUMN, text, "customerID must not be blank"))
            elif text in first_seen:
                out.append(Violation(i, ID_COLUMN, text, f"duplicate customerID (first at row {first_seen[text]})"))
            else:
                first_seen[text] = i

    if LABEL_COLUMN in columns:
        for i, text in enumerate(raw[LABEL_COLUMN], start=1):
            if text not in LABEL_VALUES:
                out.append(Violation(i, LABEL_COLUMN, text, f"label must be one of {list(LABEL_VALUES)}"))

    for feature in FEATURES:
        if feature.name not in columns:
            continue
        for i, text in enumerate(raw[feature.name], start=1):
            rule = _check_cell(feature, text, tenure_values.get(i))
            if rule is not None:
                out.append(Violation(i, feature.name, text, rule))
            elif feature.blank_allowed_when_tenure_zero and _is_blank(text):
                report.blank_total_charges_rows.append(i)

    out.sort(key=lambda v: (-1 if v.row is None else v.row, EXPECTED_COLUMNS.index(v.column) if v.column in EXPECTED_COLUMNS else 99))
    return report


def _check_cell(feature: Feature, text: str, tenure: float | None) -> str | None:
    if feature.kind == "categorical":
        if text not in feature.categories:
            return f"not an allowed category {list(feature.categories)}"
        return None
    if _is_blank(text):
        if feature.blank_allowed_when_tenure_zero:
            if tenure == 0:
                return None  # the documented tenure-0 case: missing, imputed inside the model
            return "blank is only allowed where tenure == 0 (no bill issued yet)"
        return "missing value"
    number = _parse_number(text)
    if number is None:
        return "not a finite number"
    if feature.integer and not number.is_integer():
        return "must be an integer"
    if feature.min is not None and number < feature.min:
        return f"below minimum {feature.min}"
    if feature.max is not None and number > feature.max:
        return f"above maximum {feature.max}"
    return None


def to_frames(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Typed features (float64 numerics with NaN for the blank TotalCharges, strings), label (0/1), ids.

    Call only on data that passed validate().
    """
    features = pd.DataFrame(index=raw.index)
    for feature in FEATURES:
        column = raw[feature.name]
        if feature.kind == "numeric":
            features[feature.name] = pd.to_numeric(column.where(~column.str.strip().eq(""), None)).astype("float64")
        else:
            features[feature.name] = column.astype(object)
    label = (raw[LABEL_COLUMN] == POSITIVE_LABEL).astype("int64")
    return features, label, raw[ID_COLUMN]
