"""Fuzzing the xlsx parser: random bytes, truncated and corrupted workbooks, valid workbooks
with random cells → rows or DocumentParseError."""

from __future__ import annotations

import io
from functools import cache
from typing import Any

from fuzz_support import outcome, profile  # type: ignore[import-not-found]
from hypothesis import example, given
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from worker.domain.parsers import DocumentParseError, ParsedRow, ParseOptions, parse_document

text_cells = st.text(st.characters(blacklist_categories=("Cs",)), max_size=10).filter(
    # openpyxl refuses control characters, "=" starts a formula and XML turns "\r" into "\n"
    lambda s: not ILLEGAL_CHARACTERS_RE.search(s) and not s.startswith("=") and "\r" not in s
)
# floats that survive openpyxl's writer (it keeps 15 significant digits)
cells = st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.integers(-(10**9), 10**9).map(lambda i: i / 4)
cells |= text_cells


def workbook(rows: list[list[Any]], sheet: str = "Prices") -> bytes:
    book = Workbook()
    book.active.title = sheet
    for row in rows:
        book.active.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


@cache
def sample() -> bytes:
    return workbook([["sku", "price", "note"], ["P-1", 12.5, "a"], ["P-2", 3, None], [None, None, "tail"]])


def parsed(content: bytes, **options: Any) -> list[ParsedRow] | Exception:
    return outcome(lambda: list(parse_document(content, ParseOptions(format="xlsx", **options))), DocumentParseError)


@profile(max_examples=60)
@given(st.binary(max_size=512) | st.binary(max_size=64).map(lambda b: b"PK\x03\x04" + b))
@example(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)
def test_random_bytes_are_not_a_workbook(content: bytes) -> None:
    assert isinstance(parsed(content), DocumentParseError)


@profile(max_examples=80)
@given(st.data())
def test_truncated_workbooks_give_a_parse_error_or_rows(data: st.DataObject) -> None:
    content = sample()
    cut = data.draw(st.integers(0, len(content) - 1))
    result = parsed(content[:cut])
    assert isinstance(result, DocumentParseError | list)


def corrupt(changes: dict[int, int]) -> bytes:
    content = bytearray(sample())
    for offset, value in changes.items():
        content[offset % len(content)] = value
    return bytes(content)


@profile(max_examples=100)
@given(
    st.dictionaries(st.integers(0, 10**6), st.integers(0, 255), min_size=1, max_size=8),
    st.sampled_from([None, "Prices", "Other"]),
)
@example({1024: 1}, None)  # zlib.error escaped while loading the workbook
@example({sample().index(b"PK\x01\x02") + 6: 99}, None)  # NotImplementedError: "zip file version 9.9"
def test_corrupted_workbooks_give_a_parse_error_or_rows(changes: dict[int, int], sheet: str | None) -> None:
    result = parsed(corrupt(changes), sheet=sheet)
    if not isinstance(result, Exception):
        assert all(isinstance(r.data, dict) for r in result)


@profile(max_examples=60, deadline_ms=3000)
@given(
    st.lists(text_cells.filter(lambda s: s.strip()), min_size=1, max_size=5, unique_by=str.strip),
    st.lists(st.lists(cells, max_size=6), max_size=6),
)
def test_valid_workbooks_with_random_cells_come_back(header: list[str], body: list[list[Any]]) -> None:
    result = parsed(workbook([header, *body]))
    assert not isinstance(result, Exception), result
    names = [h.strip() for h in header]
    blank = [all(c is None or (isinstance(c, str) and not c.strip()) for c in row) for row in body]
    assert [r.row_number for r in result] == [n for n, b in enumerate(blank, start=2) if not b]
    for r in result:
        row = body[r.row_number - 2]
        for i, name in enumerate(names):
            value = row[i] if i < len(row) else None
            assert r.data[name] == (None if value == "" else value)
