"""Fuzzing what turns rows into records: column mapping, JMESPath field mapping, coercion and
validation, and the whole extraction of a document → records and rejections naming the row
and field, or DocumentParseError; never another exception."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from fuzz_support import FUZZ, outcome, profile  # type: ignore[import-not-found]
from hypothesis import example, given
from hypothesis import strategies as st

from headwater.config import SourceConfig
from worker.domain.mapping import MappingRules, apply_mapping, build_column_mapping, map_json_record
from worker.domain.parsers import DocumentParseError
from worker.domain.validation import TYPES, FieldRuleSpec, coerce, validate_record
from worker.service_layer.extract import extract_rows

NOW = datetime(2026, 3, 1, tzinfo=UTC)
any_value = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.decimals()
    | st.text(max_size=20)
    | st.from_regex(r"[-+(]?[$€]?\s?[0-9][0-9.,' ]{0,25}(e[+-]?[0-9]{1,10})?\)?\s?(EUR|USD)?", fullmatch=True)
    | st.dates()
    | st.datetimes()
    | st.lists(st.integers(), max_size=2)
)
rules = st.builds(
    FieldRuleSpec,
    type=st.sampled_from(TYPES),
    required=st.booleans(),
    min=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    max=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    pattern=st.none() | st.sampled_from(["^[A-Z]+$", "[", "\\d+", ".*"]),
    enum=st.none() | st.lists(st.integers() | st.text(max_size=3), max_size=3),
)


@FUZZ
@given(any_value, st.sampled_from(TYPES))
@example("1e400", "number")  # stored as inf although infinity is refused
@example("1e999999999", "integer")  # int() of it never finished
@example(2**64, "integer")  # MongoDB cannot store it as an integer
def test_coercion_gives_a_value_or_a_reason(value: Any, kind: str) -> None:
    result = outcome(lambda: coerce(value, kind), ValueError)
    if kind == "number" and not isinstance(result, Exception):
        assert isinstance(result, float) and result == result and abs(result) != float("inf")
    if kind == "integer" and not isinstance(result, Exception):
        assert isinstance(result, int) and -(2**63) <= result < 2**63
    if kind in ("date", "datetime") and not isinstance(result, Exception):
        assert isinstance(result, str)


@FUZZ
@given(
    st.dictionaries(st.sampled_from(["sku", "price", "qty", "x"]), any_value),
    st.dictionaries(st.sampled_from(["sku", "price", "qty", "y"]), rules),
)
def test_validation_never_raises_and_names_the_field(record: dict[str, Any], checks: dict[str, FieldRuleSpec]) -> None:
    clean, problems = outcome(lambda: validate_record(record, checks))  # type: ignore[misc]
    assert {p.field for p in problems} <= set(checks) and all(p.reason for p in problems)
    assert set(clean) == set(record) | set(checks)


@FUZZ
@given(
    st.lists(st.text(max_size=15), max_size=12),
    st.dictionaries(st.sampled_from(["sku", "name", "price"]), st.text(max_size=10), max_size=3),
    st.lists(st.sampled_from(["sku", "name", "price", "currency", "quantity", "ean", "brand"]), max_size=7),
    st.integers(0, 100),
)
def test_column_mapping_is_one_to_one_for_any_headers(
    headers: list[str], fields: dict[str, str], standard: list[str], threshold: int
) -> None:
    headers = list(dict.fromkeys(headers))
    mapping = outcome(lambda: build_column_mapping(headers, MappingRules(fields, True, threshold, standard)))
    assert len(set(mapping.columns.values())) == len(mapping.columns)  # type: ignore[union-attr]
    row = {h: i for i, h in enumerate(headers)}
    mapped = apply_mapping(row, mapping)  # type: ignore[arg-type]
    assert set(mapped) <= set(mapping.columns.values()) | {"characteristics"}  # type: ignore[union-attr]


EXPRESSIONS = ["sku", "a.b", "abs(price)", "length(name)", "to_number(price)", "items[0]", "keys(@)", "sum(items)"]


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["sku", "price", "name", "items", "a"]),
        any_value.filter(lambda v: not isinstance(v, date | Decimal)),
    ),
    st.dictionaries(st.sampled_from(["t1", "t2"]), st.sampled_from(EXPRESSIONS), min_size=1),
)
@example({"price": "x"}, {"t1": "abs(price)"})  # JMESPathTypeError escaped and failed the whole document
def test_json_field_mapping_failures_become_violations_of_the_field(
    record: dict[str, Any], fields: dict[str, str]
) -> None:
    mapped = outcome(lambda: map_json_record(record, MappingRules(fields=fields)))
    _, problems = validate_record(mapped, {})  # type: ignore[arg-type]
    assert all(p.field in fields and "fails on this record" in p.reason for p in problems)


def config(fmt: str, fields: dict[str, str]) -> SourceConfig:
    return SourceConfig.model_validate(
        {
            "source_id": "fuzz",
            "ingestion": {"mode": "push"},
            "parse": {"format": fmt},
            "map": {"fields": fields, "standard_fields": ["sku", "price"]},
            "validate": {"fields": {"sku": {"type": "string", "required": True}, "price": {"type": "number"}}},
            "store": {"key": ["sku"], "valid_from_path": None},
        }
    )


JSON_CONFIG = config("json", {"sku": "sku", "price": "abs(price)"})
CSV_CONFIG = config("csv", {})


@profile(max_examples=150)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["sku", "price", "x"]),
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
        ),
        max_size=6,
    )
)
@example([{"sku": "A", "price": "x"}])
def test_json_documents_become_records_or_rejections_naming_row_and_field(records: list[dict[str, Any]]) -> None:
    result = outcome(
        lambda: extract_rows(
            json.dumps(records).encode(), JSON_CONFIG, doc_id="d", source_id="fuzz", task_id="t", now=NOW
        )
    )
    assert result.rows == len(records)  # type: ignore[union-attr]
    assert len(result.records) + len(result.rejected_rows) == len(records)  # type: ignore[union-attr]
    assert all(r.row >= 1 and r.field and r.reason for r in result.rejections)  # type: ignore[union-attr]


@profile(max_examples=150)
@given(st.binary(max_size=600) | st.text(max_size=300).map(str.encode))
def test_any_csv_bytes_become_records_rejections_or_a_parse_error(content: bytes) -> None:
    result = outcome(
        lambda: extract_rows(content, CSV_CONFIG, doc_id="d", source_id="fuzz", task_id="t", now=NOW),
        DocumentParseError,
    )
    if not isinstance(result, Exception):
        assert len(result.records) + len(result.rejected_rows) == result.rows
