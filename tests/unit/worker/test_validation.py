"""worker.domain.validation: coercion and each rule."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from worker.domain.validation import FieldRuleSpec, FieldViolation, coerce, validate_record


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1,234.50", 1234.5),
        ("1.234,50", 1234.5),
        ("12,5", 12.5),
        ("0,500", 0.5),
        ("1,234", 1234.0),
        ("1,234,567", 1234567.0),
        ("1.234.567", 1234567.0),
        ("1 234,50", 1234.5),
        ("1\u00a0234.50", 1234.5),
        ("1'234.50", 1234.5),
        ("€ 12.50", 12.5),
        (" $3 ", 3.0),
        ("12,50 €", 12.5),
        ("£-4.5", -4.5),
        ("EUR 12.50", 12.5),
        ("12.50 USD", 12.5),
        ("(5.00)", -5.0),
        ("-0.5", -0.5),
        ("+7", 7.0),
        ("1e3", 1000.0),
        (".5", 0.5),
        (7, 7.0),
        (2.25, 2.25),
    ],
)
def test_number_coercion(value: Any, expected: float) -> None:
    typed = coerce(value, "number")
    assert typed == expected and isinstance(typed, float)


@pytest.mark.parametrize(
    "value", ["abc", "", "1,2,3", "12,34,5", "1.2.3", "NaN", "inf", "1_000", "--1", True, float("nan")]
)
def test_not_numbers(value: Any) -> None:
    with pytest.raises(ValueError):
        coerce(value, "number")


@pytest.mark.parametrize(("value", "expected"), [("12.0", 12), ("1,234", 1234), (12.0, 12), (5, 5), ("€ 3", 3)])
def test_integer_coercion(value: Any, expected: int) -> None:
    typed = coerce(value, "integer")
    assert typed == expected and isinstance(typed, int)


def test_integer_refuses_fractions() -> None:
    with pytest.raises(ValueError, match="not a whole number"):
        coerce("12.5", "integer")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("FALSE", False),
        ("Yes", True),
        ("no", False),
        ("1", True),
        ("0", False),
        ("y", True),
        ("N", False),
        (1, True),
        (0.0, False),
        (True, True),
        ("on", True),
    ],
)
def test_boolean_coercion(value: Any, expected: bool) -> None:
    assert coerce(value, "boolean") is expected


@pytest.mark.parametrize("value", ["maybe", 2, ""])
def test_not_booleans(value: Any) -> None:
    with pytest.raises(ValueError, match="not a boolean"):
        coerce(value, "boolean")


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("2026-03-01", "date", "2026-03-01"),
        ("2026-03-01T10:30:00", "date", "2026-03-01"),
        (45292, "date", "2024-01-01"),
        ("45292", "date", "2024-01-01"),
        (45292.5, "datetime", "2024-01-01T12:00:00"),
        (date(2026, 1, 2), "date", "2026-01-02"),
        (datetime(2026, 1, 2, 3, 4), "date", "2026-01-02"),
        (date(2026, 1, 2), "datetime", "2026-01-02T00:00:00"),
        (datetime(2026, 1, 2, 3, 4), "datetime", "2026-01-02T03:04:00"),
        ("2026-03-01T10:00:00Z", "datetime", "2026-03-01T10:00:00+00:00"),
        ("2026-03-01 10:00:00+02:00", "datetime", "2026-03-01T10:00:00+02:00"),
    ],
)
def test_date_and_datetime_coercion(value: Any, kind: str, expected: str) -> None:
    assert coerce(value, kind) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("31/02/2026", "not an ISO date or an Excel serial"),
        ("2026-02-31", "not an ISO"),
        (-3, "outside the Excel"),
        (10**8, "outside the Excel serial date range"),
    ],
)
def test_not_dates(value: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        coerce(value, "date")


@pytest.mark.parametrize(("value", "expected"), [(" A-1 ", "A-1"), (42, "42"), (123.0, "123"), (1.5, "1.5")])
def test_string_coercion(value: Any, expected: str) -> None:
    assert coerce(value, "string") == expected


def test_unknown_type_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown type 'money'; known: string, integer"):
        coerce("1", "money")


@pytest.mark.parametrize(
    ("value", "rule", "reason"),
    [
        (None, FieldRuleSpec(required=True), "required value is missing"),
        ("  ", FieldRuleSpec(required=True), "required value is missing"),
        ("abc", FieldRuleSpec(type="number"), "'abc' is not a number"),
        ("12.5", FieldRuleSpec(type="integer"), "not a whole number"),
        ("maybe", FieldRuleSpec(type="boolean"), "not a boolean"),
        ("-1", FieldRuleSpec(type="number", min=0), "-1 is below the minimum 0"),
        ("11", FieldRuleSpec(type="integer", max=10), "11 is above the maximum 10"),
        ("ab-1", FieldRuleSpec(pattern="[A-Z]+-[0-9]+"), "'ab-1' does not match '[A-Z]+-[0-9]+'"),
        ("AB-1x", FieldRuleSpec(pattern="[A-Z]+-[0-9]+"), "does not match"),
        ("x", FieldRuleSpec(pattern="[unclosed"), "pattern '[unclosed' is invalid"),
        ("JPY", FieldRuleSpec(enum=["EUR", "USD"]), "'JPY' is not one of ['EUR', 'USD']"),
        ("3", FieldRuleSpec(type="integer", enum=[1, 2]), "3 is not one of [1, 2]"),
        ("31/02/2026", FieldRuleSpec(type="date"), "not an ISO date"),
    ],
)
def test_each_rule_reports_the_field_the_reason_and_the_raw_value(value: Any, rule: FieldRuleSpec, reason: str) -> None:
    _, problems = validate_record({"f": value}, {"f": rule})
    assert problems == [FieldViolation("f", problems[0].reason, value)]
    assert reason in problems[0].reason


def test_missing_required_field_and_several_violations_at_once() -> None:
    rules = {"sku": FieldRuleSpec(required=True), "price": FieldRuleSpec(type="number", min=0, max=1, enum=[0.5])}
    _, problems = validate_record({"price": "5"}, rules)
    assert [(p.field, p.reason) for p in problems] == [
        ("sku", "required value is missing"),
        ("price", "5 is above the maximum 1"),
        ("price", "5.0 is not one of [0.5]"),
    ]


def test_valid_record_is_coerced_and_unruled_fields_pass_through() -> None:
    record = {"sku": " A-1 ", "price": "€ 1.234,50", "active": "yes", "note": " keep me ", "extra": {"c": 1}}
    rules = {
        "sku": FieldRuleSpec(required=True, pattern="[A-Z]-[0-9]"),
        "price": FieldRuleSpec(type="number", required=True, min=0),
        "active": FieldRuleSpec(type="boolean"),
        "since": FieldRuleSpec(type="date"),
        "currency": FieldRuleSpec(enum=["EUR"]),
    }
    clean, problems = validate_record(record, rules)
    assert problems == []
    assert clean == {
        "sku": "A-1",
        "price": 1234.5,
        "active": True,
        "note": " keep me ",
        "extra": {"c": 1},
        "since": None,
        "currency": None,
    }
    assert record["sku"] == " A-1 "  # the input is not modified


def test_a_value_that_fails_coercion_keeps_its_raw_value() -> None:
    clean, _ = validate_record({"n": "abc"}, {"n": FieldRuleSpec(type="number")})
    assert clean == {"n": "abc"}
