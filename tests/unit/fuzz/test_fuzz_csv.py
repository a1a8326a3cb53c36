"""Fuzzing the CSV parser: any bytes, any encoding with or without BOM, any delimiter, ragged
rows, quoted cells with delimiters and line breaks, huge fields → rows or DocumentParseError."""

from __future__ import annotations

import csv
import io
from typing import Any

from fuzz_support import FUZZ, outcome, profile  # type: ignore[import-not-found]
from hypothesis import example, given
from hypothesis import strategies as st

from worker.domain.parsers import DocumentParseError, ParsedRow, ParseOptions, parse_document

DELIMITERS = ",;\t|"
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252", "latin-1"]
cell_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
header_names = st.lists(
    st.text(st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=8), min_size=1, max_size=6, unique=True
)


def parsed(content: bytes, **options: Any) -> list[ParsedRow] | Exception:
    return outcome(lambda: list(parse_document(content, ParseOptions(format="csv", **options))), DocumentParseError)


def written(rows: list[list[str]], delimiter: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


@FUZZ
@given(st.binary(max_size=2048), st.sampled_from([None, *DELIMITERS]), st.sampled_from([None, *ENCODINGS]))
@example(b',"' * 32_000, None, None)  # csv.Sniffer took 68 s on this (quadratic regexes)
@example(b"," * 20_000, None, None)  # 20,000 equal headers: naming them took quadratic time
@example(b"\x00\x00", None, "utf-16")  # UnicodeError (UTF-16 without a BOM), not UnicodeDecodeError
@example(b"a,b\n\x00\x00", None, "utf-32")
def test_any_bytes_give_rows_or_a_parse_error(content: bytes, delimiter: str | None, encoding: str | None) -> None:
    result = parsed(content, delimiter=delimiter, encoding=encoding)
    if not isinstance(result, Exception):
        assert all(isinstance(r.data, dict) and r.row_number >= 2 for r in result)


@FUZZ
@given(
    header_names,
    st.lists(st.lists(cell_text, min_size=0, max_size=6), max_size=8),
    st.sampled_from(DELIMITERS),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
    st.booleans(),
)
def test_written_tables_come_back_cell_for_cell(
    header: list[str], body: list[list[str]], delimiter: str, encoding: str, configured: bool
) -> None:
    """Whatever the cells hold (delimiters, quotes, line breaks, NUL), a table written by the
    csv module comes back: each row under its header, '' as None, ragged rows padded or kept
    as column_<n>, blank rows skipped. Encodings with a BOM and UTF-8 are detected."""
    content = written([header, *body], delimiter).encode(encoding)
    options = {"delimiter": delimiter, "encoding": None if not configured else encoding}
    result = parsed(content, **options)
    assert not isinstance(result, Exception), result
    expected = []
    for number, cells in enumerate(body, start=2):
        if all(not c.strip() for c in cells):
            continue
        data: dict[str, Any] = {h: (cells[i] or None) if i < len(cells) else None for i, h in enumerate(header)}
        data.update({f"column_{i + 1}": c for i, c in enumerate(cells) if i >= len(header) and c.strip()})
        expected.append((number, data))
    assert [(r.row_number, r.data) for r in result] == expected


@FUZZ
@given(header_names, st.lists(st.lists(st.from_regex(r"[A-Za-z0-9 .]{1,6}", fullmatch=True), min_size=1), min_size=1))
def test_the_delimiter_of_a_consistent_table_is_detected(header: list[str], body: list[list[str]]) -> None:
    for delimiter in DELIMITERS:
        width = len(header)
        rows = [header, *([(r * width)[:width] for r in body])]
        result = parsed(written(rows, delimiter).encode())
        assert not isinstance(result, Exception), result
        if width > 1:
            assert all(set(r.data) == set(header) for r in result), (delimiter, result[:1])


@profile(max_examples=10, deadline_ms=5000)
@given(st.integers(100_000, 300_000), st.sampled_from(["x", '"', ",", "\n", "é"]))
def test_huge_fields_give_the_row_or_a_clear_error(size: int, char: str) -> None:
    cell = char * size
    content = written([["sku", "description"], ["P-1", cell]], ",").encode()
    result = parsed(content)
    if isinstance(result, Exception):
        assert "field larger than field limit" in str(result) and "line" in str(result)
    else:
        assert result[0].data == {"sku": "P-1", "description": cell}
