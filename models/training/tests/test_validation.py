"""The schema check on broken files: every rule, every violation named (row, column, value, rule)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from churn_training.schema import EXPECTED_COLUMNS, DataValidationError, load_validated, read_raw, validate
from conftest import TRAINING_DIR, write_csv

SAMPLE = 40  # rows of the real file the broken files are made from


@pytest.fixture
def sample(data_rows):
    header, rows = data_rows
    return list(header), [list(r) for r in rows[:SAMPLE]]


def col(header, name):
    return header.index(name)


def check(tmp_path, header, rows):
    return validate(read_raw(write_csv(tmp_path / "data.csv", header, rows)))


def only(report, **expected):
    """The report holds exactly one violation, and it has these fields (rule: a substring)."""
    assert len(report.violations) == 1, report.render()
    v = report.violations[0]
    for key, value in expected.items():
        if key == "rule":
            assert value in v.rule, report.render()
        else:
            assert getattr(v, key) == value, report.render()
    return v


def test_the_real_data_is_valid_and_its_blank_total_charges_are_the_tenure_zero_rows(data_path, data_rows):
    raw, report = load_validated(data_path)
    header, rows = data_rows
    assert report.ok and report.rows == len(rows) == 5987
    assert len(report.blank_total_charges_rows) == 9
    tenure = col(header, "tenure")
    assert all(rows[r - 1][tenure] == "0" for r in report.blank_total_charges_rows)
    assert all(raw.loc[r, "TotalCharges"] == " " for r in report.blank_total_charges_rows)


def test_the_sample_is_valid(tmp_path, sample):
    assert check(tmp_path, *sample).ok


@pytest.mark.parametrize(
    "column, value, rule",
    [
        ("gender", "male", "not an allowed category"),
        ("gender", " Male", "not an allowed category"),
        ("Contract", "Weekly", "not an allowed category"),
        ("PaymentMethod", "", "not an allowed category"),
        ("SeniorCitizen", "2", "above maximum 1"),
        ("SeniorCitizen", "0.5", "must be an integer"),
        ("SeniorCitizen", "Yes", "not a finite number"),
        ("tenure", "-1", "below minimum 0"),
        ("tenure", "1.5", "must be an integer"),
        ("tenure", "", "missing value"),
        ("MonthlyCharges", "-5.0", "below minimum 0"),
        ("MonthlyCharges", "abc", "not a finite number"),
        ("MonthlyCharges", "nan", "not a finite number"),
        ("MonthlyCharges", "inf", "not a finite number"),
        ("MonthlyCharges", "1,000.5", "not a finite number"),
        ("MonthlyCharges", " ", "missing value"),
        ("TotalCharges", "-0.01", "below minimum 0"),
        ("TotalCharges", " ", "blank is only allowed where tenure == 0"),
        ("TotalCharges", "", "blank is only allowed where tenure == 0"),
        ("Churn", "yes", "label must be one of"),
        ("Churn", "1", "label must be one of"),
        ("Churn", "", "label must be one of"),
        ("customerID", "", "customerID must not be blank"),
    ],
)
def test_a_bad_cell_is_named_by_row_column_value_and_rule(tmp_path, sample, column, value, rule):
    header, rows = sample
    rows[6][col(header, column)] = value
    v = only(check(tmp_path, header, rows), row=7, line=8, column=column, value=value, rule=rule)
    assert str(v).startswith(f"row 7 (line 8) column {column!r} value {value!r}: ")


def test_blank_total_charges_is_accepted_with_tenure_zero_and_only_then(tmp_path, sample):
    header, rows = sample
    rows[2][col(header, "tenure")] = "0"
    rows[2][col(header, "TotalCharges")] = " "
    report = check(tmp_path, header, rows)
    assert report.ok and report.blank_total_charges_rows == [3]
    rows[3][col(header, "tenure")] = "1"
    rows[3][col(header, "TotalCharges")] = " "
    only(check(tmp_path, header, rows), row=4, column="TotalCharges", rule="only allowed where tenure == 0")


def test_duplicate_customer_ids_name_both_rows(tmp_path, sample):
    header, rows = sample
    rows[9][0] = rows[1][0]
    only(
        check(tmp_path, header, rows),
        row=10,
        column="customerID",
        value=rows[1][0],
        rule="duplicate customerID (first at row 2)",
    )


@pytest.mark.parametrize(
    "changes, column, rule",
    [
        (
            {"PhoneService": "No", "MultipleLines": "Yes"},
            "MultipleLines",
            "'No phone service' exactly when PhoneService is 'No'",
        ),
        (
            {"PhoneService": "Yes", "MultipleLines": "No phone service"},
            "MultipleLines",
            "exactly when PhoneService is 'No'",
        ),
        (
            {"InternetService": "DSL", "TechSupport": "No internet service"},
            "TechSupport",
            "exactly when InternetService is 'No'",
        ),
    ],
)
def test_cross_column_consistency(tmp_path, sample, changes, column, rule):
    header, rows = sample
    for name, value in changes.items():
        rows[4][col(header, name)] = value
    only(check(tmp_path, header, rows), row=5, column=column, rule=rule)


def test_no_internet_requires_every_addon_to_say_so(tmp_path, sample):
    header, rows = sample
    rows[0][col(header, "InternetService")] = "No"  # the add-ons of row 1 still say Yes/No
    report = check(tmp_path, header, rows)
    assert {v.column for v in report.violations} == {
        "OnlineSecurity",
        "OnlineBackup",
        "DeviceProtection",
        "TechSupport",
        "StreamingTV",
        "StreamingMovies",
    }
    assert all(v.row == 1 for v in report.violations)


def test_missing_column(tmp_path, sample):
    header, rows = sample
    k = col(header, "Contract")
    report = check(tmp_path, header[:k] + header[k + 1 :], [r[:k] + r[k + 1 :] for r in rows])
    only(report, row=None, column="Contract", rule="missing column")


def test_missing_label_column(tmp_path, sample):
    header, rows = sample
    only(check(tmp_path, header[:-1], [r[:-1] for r in rows]), row=None, column="Churn", rule="missing column")


def test_unexpected_column(tmp_path, sample):
    header, rows = sample
    only(
        check(tmp_path, [*header, "Notes"], [[*r, "x"] for r in rows]),
        row=None,
        column="Notes",
        rule="unexpected column",
    )


def test_duplicate_column(tmp_path, sample):
    header, rows = sample
    only(
        check(tmp_path, [*header, "tenure"], [[*r, "3"] for r in rows]),
        row=None,
        column="tenure",
        rule="duplicate column",
    )


def test_ragged_row(tmp_path, sample):
    header, rows = sample
    rows[11] = rows[11][:-2]
    only(
        check(tmp_path, header, rows),
        row=12,
        column=None,
        rule=f"row has {len(header) - 2} field(s); the header has {len(header)}",
    )


def test_header_only(tmp_path, sample):
    only(check(tmp_path, sample[0], []), row=None, rule="no data rows")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    only(validate(read_raw(path)), row=None, rule="empty file")


def test_not_utf8(tmp_path, sample):
    header, rows = sample
    path = write_csv(tmp_path / "latin1.csv", header, rows)
    path.write_bytes(path.read_bytes().replace(b"Female", b"F\xe9male", 1))
    only(validate(read_raw(path)), row=None, rule="not UTF-8")


def test_every_violation_is_reported_not_just_the_first(tmp_path, sample):
    header, rows = sample
    rows[20][col(header, "Contract")] = "Weekly"
    rows[3][col(header, "tenure")] = "-4"
    rows[3][col(header, "Churn")] = "maybe"
    rows[30][col(header, "MonthlyCharges")] = "lots"
    report = check(tmp_path, header, rows)
    got = [(v.row, v.column) for v in report.violations]
    assert got == [(4, "tenure"), (4, "Churn"), (21, "Contract"), (31, "MonthlyCharges")]  # by row, then column order
    text = report.render()
    assert text.startswith("data validation: 4 violation(s) in 40 row(s)")
    for row, column in got:
        assert f"row {row} (line {row + 1}) column {column!r}" in text


def test_load_validated_raises_with_the_report(tmp_path, sample):
    header, rows = sample
    rows[0][col(header, "gender")] = "X"
    with pytest.raises(DataValidationError) as info:
        load_validated(write_csv(tmp_path / "bad.csv", header, rows))
    assert info.value.report.violations[0].column == "gender"
    assert "row 1 (line 2) column 'gender' value 'X'" in str(info.value)


def test_training_stops_on_bad_data_with_a_report_and_writes_nothing(tmp_path, sample):
    header, rows = sample
    rows[5][col(header, "SeniorCitizen")] = "7"
    rows[8][col(header, "Churn")] = "Unknown"
    bad = write_csv(tmp_path / "bad.csv", header, rows)
    out = tmp_path / "out" / "1"
    proc = subprocess.run(
        [sys.executable, "-m", "churn_training.train", "--data", str(bad), "--out", str(out), "--no-mlflow"],
        cwd=TRAINING_DIR,
        capture_output=True,
        check=False,  # the exit code is what the test asserts
        text=True,
        timeout=120,
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "failed validation; nothing was trained" in proc.stderr
    assert "row 6 (line 7) column 'SeniorCitizen' value '7': above maximum 1" in proc.stderr
    assert "row 9 (line 10) column 'Churn' value 'Unknown': label must be one of" in proc.stderr
    assert not out.exists()


def test_expected_columns_are_the_data_set_columns(data_rows):
    assert tuple(data_rows[0]) == EXPECTED_COLUMNS
