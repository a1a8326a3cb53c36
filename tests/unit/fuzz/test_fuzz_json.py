"""Fuzzing the JSON parsers (``json`` with and without ``records_path``, ``ndjson``,
``sheets_values``): any bytes, any JSON value, deep nesting → rows or DocumentParseError."""

from __future__ import annotations

import json
from typing import Any

from fuzz_support import FUZZ, outcome  # type: ignore[import-not-found]
from hypothesis import example, given
from hypothesis import strategies as st

from worker.domain.parsers import DocumentParseError, ParsedRow, ParseOptions, parse_document

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)
RECORDS_PATHS = [None, "items", "data.items", "[*].a", "items[0]", "abs(items)", "length(@)", "keys(@)", "@", "a.b[?c]"]


def parsed(content: bytes, fmt: str, records_path: str | None = None) -> list[ParsedRow] | Exception:
    options = ParseOptions(format=fmt, records_path=records_path)
    return outcome(lambda: list(parse_document(content, options)), DocumentParseError)


def records_ok(result: list[ParsedRow] | Exception) -> None:
    if not isinstance(result, Exception):
        assert all(isinstance(r.data, dict) and r.row_number >= 1 for r in result)


@FUZZ
@given(st.binary(max_size=1024), st.sampled_from(["json", "ndjson", "sheets_values"]))
@example(b"[" * 100_000 + b"]" * 100_000, "json")  # RecursionError from the json module
@example(b"[" * 100_000 + b"]" * 100_000, "ndjson")
@example(b'{"values": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "sheets_values")
@example(b"\xff\xfe" + "[1]".encode("utf-16-le"), "json")
def test_any_bytes_give_rows_or_a_parse_error(content: bytes, fmt: str) -> None:
    records_ok(parsed(content, fmt))


@FUZZ
@given(json_values, st.sampled_from(RECORDS_PATHS))
@example({"items": "x"}, "abs(items)")  # JMESPathTypeError at search time escaped
def test_any_json_value_with_any_records_path(doc: Any, records_path: str | None) -> None:
    result = parsed(json.dumps(doc).encode(), "json", records_path)
    records_ok(result)
    if isinstance(result, Exception) and records_path:
        assert repr(records_path) in str(result) or "JSON document" in str(result)
    if records_path is None and isinstance(doc, list):
        assert not isinstance(result, Exception)
        assert [r.data for r in result] == [d if isinstance(d, dict) else {"value": d} for d in doc]


@FUZZ
@given(st.lists(json_values | st.just("\n") | st.binary(max_size=6), max_size=8))
def test_ndjson_lines_give_records_or_the_line_that_is_wrong(lines: list[Any]) -> None:
    encoded = [line if isinstance(line, bytes) else json.dumps(line).encode() for line in lines]
    result = parsed(b"\n".join(encoded), "ndjson")
    records_ok(result)
    if isinstance(result, Exception):
        assert "line" in str(result)


@FUZZ
@given(st.lists(st.lists(scalars | st.just(""), max_size=5), max_size=6), st.sampled_from(["ROWS", "COLUMNS", "X", 1]))
def test_sheets_values_any_grid(values: list[list[Any]], dimension: Any) -> None:
    result = parsed(json.dumps({"values": values, "majorDimension": dimension}).encode(), "sheets_values")
    records_ok(result)
    if dimension == "ROWS":
        assert not isinstance(result, Exception), result


@FUZZ
@given(json_values)
def test_sheets_values_any_json_document(doc: Any) -> None:
    records_ok(parsed(json.dumps(doc).encode(), "sheets_values"))
