"""The raw data schema of telco-churn.csv, and its validation.

FEATURES is the single source of the serving contract: model.json's `features` array, the ONNX
`ortline.features` metadata and the ONNX inputs are all generated from it, in this order.

Validation runs before anything is trained. It reads every cell as the exact text in the file
(nothing coerced, nothing turned into NaN behind our back), checks every rule on every row, and
returns all violations at once: a report that names only the first problem costs one round trip
per problem.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

ID_COLUMN = "customerID"
LABEL_COLUMN = "Churn"
LABEL_VALUES = ("No", "Yes")  # index == encoded label
POSITIVE_LABEL = "Yes"

YES_NO = ("No", "Yes")
NO_PHONE = "No phone service"
NO_INTERNET = "No internet service"
INTERNET_ADDON = ("No", NO_INTERNET, "Yes")

# The ONNX graph takes numerics as float32; see to_frames for why training sees the same values.
NUMERIC_DTYPE = "float32"


@dataclass(frozen=True)
class Feature:
    name: str
    kind: str  # "numeric" | "categorical"
    categories: tuple[str, ...] = ()
    integer: bool = False
    required: bool = True
    min: float | None = None  # hard validity bounds (inclusive), None = unbounded
    max: float | None = None
    # Only TotalCharges may be blank, and only where tenure == 0 (no bill issued yet).
    blank_allowed_when_tenure_zero: bool = False

    def spec(self) -> dict:
        """This feature as model.json `features[i]` (the scorer's FeatureSpec)."""
        if self.kind == "categorical":
            return {
                "name": self.name,
                "kind": "categorical",
                "dtype": "string",
                "required": self.required,
                "categories": list(self.categories),
            }
        out = {
            "name": self.name,
            "kind": "numeric",
            "dtype": NUMERIC_DTYPE,
            "integer": self.integer,
            "required": self.required,
        }
        if not self.required:
            out["default"] = None  # send NaN: the graph imputes it
        out["min"] = _json_number(self.min)
        out["max"] = _json_number(self.max)
        return out


def _json_number(value: float | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else float(value)


# In the data set's column order; this is the ONNX input order.
FEATURES: tuple[Feature, ...] = (
    Feature("gender", "categorical", ("Female", "Male")),
    Feature("SeniorCitizen", "numeric", integer=True, min=0, max=1),
    Feature("Partner", "categorical", YES_NO),
    Feature("Dependents", "categorical", YES_NO),
    # Months with the company. No upper bound: the sample stops at 72 (6 years) because of when it
    # was drawn, not because longer tenures are invalid; drift on it shows in the reference histogram.
    Feature("tenure", "numeric", integer=True, min=0),
    Feature("PhoneService", "categorical", YES_NO),
    Feature("MultipleLines", "categorical", ("No", NO_PHONE, "Yes")),
    Feature("InternetService", "categorical", ("DSL", "Fiber optic", "No")),
    Feature("OnlineSecurity", "categorical", INTERNET_ADDON),
    Feature("OnlineBackup", "categorical", INTERNET_ADDON),
    Feature("DeviceProtection", "categorical", INTERNET_ADDON),
    Feature("TechSupport", "categorical", INTERNET_ADDON),
    Feature("StreamingTV", "categorical", INTERNET_ADDON),
    Feature("StreamingMovies", "categorical", INTERNET_ADDON),
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
FEATURES_BY_NAME = {f.name: f for f in FEATURES}
# Features a business cannot change for a customer: who the customer is (gender, SeniorCitizen,
# Partner, Dependents) and their history with the company (tenure, TotalCharges). Everything else
# (contract, services, billing, price) is an offer the business can make. The card lists these so
# that "what would change the risk" tools show them apart from the actionable ones.
FIXED_FEATURES = ("gender", "SeniorCitizen", "Partner", "Dependents", "tenure", "TotalCharges")
FIXED_FEATURES_RATIONALE = (
    "Who the customer is (gender, SeniorCitizen, Partner, Dependents) and their history with the company "
    "(tenure, TotalCharges) are facts a retention offer cannot change; contract, services, billing and the "
    "monthly price are what the business can offer differently."
)
NUMERIC_FEATURES = tuple(f.name for f in FEATURES if f.kind == "numeric")
CATEGORICAL_FEATURES = tuple(f.name for f in FEATURES if f.kind == "categorical")
EXPECTED_COLUMNS = (ID_COLUMN, *FEATURE_NAMES, LABEL_COLUMN)
INTERNET_ADDONS = (
    "OnlineSecurity",
    "OnlineBackup",
    "DeviceProtection",
    "TechSupport",
    "StreamingTV",
    "StreamingMovies",
)


def feature_specs() -> list[dict]:
    return [f.spec() for f in FEATURES]


# Plain decimal notation only: no surrounding blanks, no "nan"/"inf", no thousands separators.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


@dataclass(frozen=True)
class Violation:
    row: int | None  # 1-based data row (the header is not a row); None = the whole file
    column: str | None
    value: str | None
    rule: str
    line: int | None = None  # line in the file where the row ends (differs from row + 1 only with quoted newlines)

    def __str__(self) -> str:
        if self.row is None:
            where = "file"
        else:
            where = f"row {self.row}" + (f" (line {self.line})" if self.line is not None else "")
        col = "" if self.column is None else f" column {self.column!r}"
        val = "" if self.value is None else f" value {self.value!r}"
        return f"{where}{col}{val}: {self.rule}"


@dataclass
class RawTable:
    """The file as text: one str cell per column, index = 1-based data row number."""

    frame: pd.DataFrame
    lines: dict[int, int] = field(default_factory=dict)  # row -> file line
    problems: list[Violation] = field(default_factory=list)  # structural: header, ragged rows, encoding
    rows: int = 0  # data rows in the file, ragged ones included


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
        if not self.violations:
            return head
        counts = Counter((v.column or "-", v.rule) for v in self.violations)
        summary = [
            f"  {n:6d} x {column}: {rule}" for (column, rule), n in sorted(counts.items(), key=lambda kv: -kv[1])
        ]
        return "\n".join(
            [head, "by column and rule:", *summary, "every violation:", *(f"  - {v}" for v in self.violations)]
        )


class DataValidationError(Exception):
    def __init__(self, report: ValidationReport):
        super().__init__(report.render())
        self.report = report


def read_raw(path: str | Path) -> RawTable:
    """Reads the CSV as text. Structural problems become violations, not exceptions."""
    problems: list[Violation] = []
    try:
        # utf-8-sig: a byte-order mark must not end up glued to the first column's name.
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            records: list[tuple[int, int, list[str]]] = []
            row = 0
            for record in reader:
                if not record:  # a blank line holds no data (e.g. the file's trailing newline)
                    continue
                row += 1
                records.append((row, reader.line_num, record))
    except UnicodeDecodeError as err:
        return RawTable(
            pd.DataFrame(), problems=[Violation(None, None, None, f"not UTF-8 text ({err.reason} at byte {err.start})")]
        )
    except csv.Error as err:
        return RawTable(pd.DataFrame(), problems=[Violation(None, None, None, f"not parseable as CSV: {err}")])

    if header is None:
        return RawTable(pd.DataFrame(), problems=[Violation(None, None, None, "empty file: no header row")])
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.append(Violation(None, name, None, "duplicate column in the header"))
        seen.add(name)

    good: list[list[str]] = []
    index: list[int] = []
    lines: dict[int, int] = {}
    for row, line, record in records:
        lines[row] = line
        if len(record) != len(header):
            problems.append(
                Violation(row, None, None, f"row has {len(record)} field(s); the header has {len(header)}", line)
            )
            continue
        good.append(record)
        index.append(row)
    # Duplicate header names would collapse in a DataFrame: keep the first of each.
    keep = [i for i, name in enumerate(header) if header.index(name) == i]
    frame = pd.DataFrame(
        [[r[i] for i in keep] for r in good], columns=[header[i] for i in keep], index=index, dtype=object
    )
    return RawTable(frame, lines, problems, rows=len(records))


def _parse_number(text: str) -> float | None:
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def _is_blank(text: str) -> bool:
    return text.strip() == ""


def validate(table: RawTable) -> ValidationReport:
    """Checks every rule on every row and returns all violations (it never stops at the first)."""
    raw = table.frame
    report = ValidationReport(rows=table.rows)
    out = report.violations
    out.extend(table.problems)
    line = table.lines.get

    columns = list(raw.columns)
    if not any(v.rule.startswith(("empty file", "not UTF-8", "not parseable")) for v in table.problems):
        for name in EXPECTED_COLUMNS:
            if name not in columns:
                out.append(Violation(None, name, None, "missing column"))
        for name in columns:
            if name not in EXPECTED_COLUMNS:
                out.append(Violation(None, name, None, "unexpected column"))
        if table.rows == 0:
            out.append(Violation(None, None, None, "no data rows"))

    tenure_values: dict[int, float] = {}
    if "tenure" in columns:
        for i, text in raw["tenure"].items():
            number = _parse_number(text)
            if number is not None:
                tenure_values[i] = number

    if ID_COLUMN in columns:
        first_seen: dict[str, int] = {}
        for i, text in raw[ID_COLUMN].items():
            if _is_blank(text):
                out.append(Violation(i, ID_COLUMN, text, "customerID must not be blank", line(i)))
            elif text in first_seen:
                out.append(
                    Violation(i, ID_COLUMN, text, f"duplicate customerID (first at row {first_seen[text]})", line(i))
                )
            else:
                first_seen[text] = i

    if LABEL_COLUMN in columns:
        for i, text in raw[LABEL_COLUMN].items():
            if text not in LABEL_VALUES:
                out.append(Violation(i, LABEL_COLUMN, text, f"label must be one of {list(LABEL_VALUES)}", line(i)))

    for feature in FEATURES:
        if feature.name not in columns:
            continue
        for i, text in raw[feature.name].items():
            rule = _check_cell(feature, text, tenure_values.get(i))
            if rule is not None:
                out.append(Violation(i, feature.name, text, rule, line(i)))
            elif feature.blank_allowed_when_tenure_zero and _is_blank(text):
                report.blank_total_charges_rows.append(i)

    out.extend(_check_consistency(raw, line))

    order = {name: k for k, name in enumerate(EXPECTED_COLUMNS)}
    out.sort(key=lambda v: (-1 if v.row is None else v.row, order.get(v.column, len(order))))
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
        return "not a finite number in plain decimal notation"
    if feature.integer and not number.is_integer():
        return "must be an integer"
    if feature.min is not None and number < feature.min:
        return f"below minimum {_json_number(feature.min)}"
    if feature.max is not None and number > feature.max:
        return f"above maximum {_json_number(feature.max)}"
    return None


def _check_consistency(raw: pd.DataFrame, line) -> list[Violation]:
    """Cross-column rules the data set holds on every row; the model never saw them broken."""
    out: list[Violation] = []
    columns = set(raw.columns)
    if {"PhoneService", "MultipleLines"} <= columns:
        for i, (phone, lines) in raw[["PhoneService", "MultipleLines"]].iterrows():
            if (
                phone in YES_NO
                and lines in FEATURES_BY_NAME["MultipleLines"].categories
                and (phone == "No") != (lines == NO_PHONE)
            ):
                out.append(
                    Violation(
                        i,
                        "MultipleLines",
                        lines,
                        f"must be {NO_PHONE!r} exactly when PhoneService is 'No' (PhoneService is {phone!r})",
                        line(i),
                    )
                )
    if "InternetService" in columns:
        for addon in INTERNET_ADDONS:
            if addon not in columns:
                continue
            for i, (internet, value) in raw[["InternetService", addon]].iterrows():
                if (
                    internet in FEATURES_BY_NAME["InternetService"].categories
                    and value in INTERNET_ADDON
                    and (internet == "No") != (value == NO_INTERNET)
                ):
                    out.append(
                        Violation(
                            i,
                            addon,
                            value,
                            f"must be {NO_INTERNET!r} exactly when InternetService is 'No' (InternetService is {internet!r})",
                            line(i),
                        )
                    )
    return out


def load_validated(path: str | Path) -> tuple[pd.DataFrame, ValidationReport]:
    """The raw text table of a valid file; raises DataValidationError naming every violation."""
    table = read_raw(path)
    report = validate(table)
    if not report.ok:
        raise DataValidationError(report)
    return table.frame, report


def to_frames(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Typed features, label (0/1), ids. Call only on data that passed validate().

    Numerics are rounded to float32 (then held as float64): the ONNX graph receives float32, so
    the scikit-learn pipeline is fitted and scored on exactly the values serving will send. The
    blank TotalCharges becomes NaN; the pipeline imputes it.
    """
    features = pd.DataFrame(index=raw.index)
    for feature in FEATURES:
        column = raw[feature.name]
        if feature.kind == "numeric":
            values = np.array([np.nan if _is_blank(text) else float(text) for text in column], dtype=np.float64)
            features[feature.name] = values.astype(np.float32).astype(np.float64)
        else:
            features[feature.name] = column.astype(object)
    label = (raw[LABEL_COLUMN] == POSITIVE_LABEL).astype("int64").rename(LABEL_COLUMN)
    return features, label, raw[ID_COLUMN]


def json_record(raw_row: pd.Series) -> dict:
    """One raw row as the JSON record a client would send: numbers as numbers, blank as null."""
    record: dict = {}
    for feature in FEATURES:
        text = raw_row[feature.name]
        if feature.kind == "categorical":
            record[feature.name] = text
        elif _is_blank(text):
            record[feature.name] = None
        else:
            number = float(text)
            record[feature.name] = int(number) if feature.integer else number
    return record
