from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from worker.domain.dedup import content_hash, raw_document_id
from worker.domain.mapping import MappingRules, apply_mapping, build_column_mapping, map_json_record
from worker.domain.records import MissingKeyError, natural_key, record_content_hash
from worker.domain.scd2 import StoredVersion, current_id, decide, version_id
from worker.domain.validation import FieldRuleSpec, validate_record

RULES = MappingRules(
    fields={"sku": "Product Code", "name": "Description"},
    fuzzy=True,
    fuzzy_threshold=80,
    standard_fields=["sku", "name", "price", "currency"],
)


def test_overrides_win_fuzzy_matches_the_rest_and_unmapped_become_characteristics() -> None:
    headers = ["Product Code", "Description", "Unit Price", "Currency ", "SKU", "Colour"]
    mapping = build_column_mapping(headers, MappingRules(**{**RULES.__dict__, "fuzzy_threshold": 60}))
    assert mapping.columns["Product Code"] == "sku"  # the override, though "SKU" matches exactly
    assert mapping.columns["Description"] == "name"
    assert mapping.columns["Currency "] == "currency"
    assert mapping.columns["Unit Price"] == "price"
    row = {
        "Product Code": "A-1",
        "Description": "Bolt",
        "Unit Price": "1,5",
        "Currency ": "EUR",
        "SKU": "x",
        "Colour": "red",
    }
    assert apply_mapping(row, mapping) == {
        "sku": "A-1",
        "name": "Bolt",
        "price": "1,5",
        "currency": "EUR",
        "characteristics": {"SKU": "x", "Colour": "red"},
    }


def test_fuzzy_threshold_keeps_weak_matches_out() -> None:
    mapping = build_column_mapping(["Weight"], RULES)
    assert mapping.columns == {} and mapping.unmapped == ["Weight"]


def test_json_mapping_with_jmespath_and_passthrough() -> None:
    rec = {"id": 7, "pricing": {"amount": 3.5}}
    assert map_json_record(rec, MappingRules(fields={"sku": "id", "price": "pricing.amount"})) == {
        "sku": 7,
        "price": 3.5,
    }
    assert map_json_record(rec, MappingRules()) == rec


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("1,234.50", "number", 1234.5),
        ("12,5", "number", 12.5),
        ("€ 12.50", "number", 12.5),
        (" $3 ", "number", 3.0),
        ("1.234,5", "number", 1234.5),
        ("12.0", "integer", 12),
        ("yes", "boolean", True),
        ("0", "boolean", False),
        ("2026-03-01", "date", "2026-03-01"),
        (45292, "date", "2024-01-01"),
        (date(2026, 1, 2), "date", "2026-01-02"),
        ("2026-03-01T10:00:00Z", "datetime", "2026-03-01T10:00:00+00:00"),
        (42, "string", "42"),
    ],
)
def test_coercion(value: object, kind: str, expected: object) -> None:
    clean, problems = validate_record({"f": value}, {"f": FieldRuleSpec(type=kind)})
    assert problems == [] and clean["f"] == expected


@pytest.mark.parametrize(
    ("value", "rule", "reason"),
    [
        (None, FieldRuleSpec(required=True), "required value is missing"),
        ("  ", FieldRuleSpec(required=True), "required value is missing"),
        ("abc", FieldRuleSpec(type="number"), "is not a number"),
        ("12.5", FieldRuleSpec(type="integer"), "not a whole number"),
        ("maybe", FieldRuleSpec(type="boolean"), "not a boolean"),
        ("-1", FieldRuleSpec(type="number", min=0), "below the minimum 0"),
        ("11", FieldRuleSpec(type="number", max=10), "above the maximum 10"),
        ("ab-1", FieldRuleSpec(pattern="[A-Z]+-[0-9]+"), "does not match"),
        ("JPY", FieldRuleSpec(enum=["EUR", "USD"]), "is not one of"),
        ("31/02/2026", FieldRuleSpec(type="date"), "not an ISO date"),
    ],
)
def test_each_rule_reports_the_field_and_reason(value: object, rule: FieldRuleSpec, reason: str) -> None:
    _, problems = validate_record({"f": value}, {"f": rule})
    assert [p.field for p in problems] == ["f"] and reason in problems[0].reason


def test_natural_key_and_content_hash() -> None:
    assert natural_key({"a": "x", "b": 2}, ["a", "b"]) == "x|2"
    with pytest.raises(MissingKeyError):
        natural_key({"a": ""}, ["a"])
    assert record_content_hash({"a": 1, "b": 2}) == record_content_hash({"b": 2, "a": 1})
    assert record_content_hash({"a": 1}) != record_content_hash({"a": 2})


def test_scd2_decisions() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert decide(None, "h1", now).kind == "insert_first"
    current = StoredVersion("k", 3, "h1", now)
    assert decide(current, "h1", now).kind == "unchanged"
    changed = decide(current, "h2", now)
    assert changed.kind == "new_version" and changed.version == 4
    assert decide(current, "h2", now, history="none").kind == "upsert_latest"
    assert current_id("s", "k") == "s:k" and version_id("s", "k", 4) == "s:k:v4"


def test_dedup_ids_hash_exact_bytes() -> None:
    assert content_hash(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert content_hash(b"abc") != content_hash(b"abc\n")
    assert raw_document_id("src", "ff") == "src:ff"
