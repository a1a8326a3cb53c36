from __future__ import annotations

import io
import json

import pytest
from openpyxl import Workbook

from worker.domain.parsers import DocumentParseError, ParseOptions, parse_document


def rows(content: bytes, fmt: str, **kw: object) -> list[tuple[int, dict[str, object]]]:
    return [(r.row_number, r.data) for r in parse_document(content, ParseOptions(format=fmt, **kw))]  # type: ignore[arg-type]


def test_csv_with_header_and_row_numbers() -> None:
    out = rows(b"sku,price\nA,1.5\nB,2\n", "csv")
    assert out == [(2, {"sku": "A", "price": "1.5"}), (3, {"sku": "B", "price": "2"})]


def test_csv_semicolon_latin1_and_decimal_comma() -> None:
    content = "Artikel;Preis;Beschreibung\nA-1;12,50;Größe M\n".encode("latin-1")
    assert rows(content, "csv") == [(2, {"Artikel": "A-1", "Preis": "12,50", "Beschreibung": "Größe M"})]


def test_csv_utf16_and_utf8_bom() -> None:
    assert rows("a,b\n1,2\n".encode("utf-16"), "csv") == [(2, {"a": "1", "b": "2"})]
    assert rows(b"\xef\xbb\xbfa,b\n1,2\n", "csv") == [(2, {"a": "1", "b": "2"})]


def test_ragged_rows_empty_headers_duplicates_and_blank_lines() -> None:
    content = b"a,,a\n1,2\n\n3,4,5,6\n"
    assert rows(content, "csv") == [
        (2, {"a": "1", "column_2": "2", "a_2": None}),
        (4, {"a": "3", "column_2": "4", "a_2": "5", "column_4": "6"}),
    ]


def test_empty_csv_has_no_rows() -> None:
    assert rows(b"", "csv") == []
    assert rows(b"only,header\n", "csv") == []


def xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for name, data in sheets.items():
        ws = book.create_sheet(name)
        for r in data:
            ws.append(r)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_xlsx_sheet_selection_numbers_as_text_and_missing_sheet() -> None:
    content = xlsx({"Info": [["x"]], "Prices": [["SKU", "Price"], ["A", "12.5"], ["B", 7]]})
    assert rows(content, "xlsx", sheet="Prices") == [(2, {"SKU": "A", "Price": "12.5"}), (3, {"SKU": "B", "Price": 7})]
    with pytest.raises(DocumentParseError, match="sheet 'Nope' not found; the workbook has: Info, Prices"):
        rows(content, "xlsx", sheet="Nope")


def test_xlsx_empty_sheet_and_not_a_workbook() -> None:
    assert rows(xlsx({"Empty": []}), "xlsx") == []
    with pytest.raises(DocumentParseError, match=r"not a readable \.xlsx"):
        rows(b"PK not really", "xlsx")


def test_json_records_path_and_errors() -> None:
    doc = json.dumps({"data": {"items": [{"a": 1}, {"a": 2}]}}).encode()
    assert rows(doc, "json", records_path="data.items") == [(1, {"a": 1}), (2, {"a": 2})]
    assert rows(b'{"a": 1}', "json") == [(1, {"a": 1})]
    with pytest.raises(DocumentParseError, match="selects a dict, not a list"):
        rows(doc, "json", records_path="data")
    with pytest.raises(DocumentParseError, match="invalid JSON"):
        rows(b"{nope", "json")


def test_ndjson_and_bad_line() -> None:
    assert rows(b'{"a":1}\n\n{"a":2}\n', "ndjson") == [(1, {"a": 1}), (3, {"a": 2})]
    with pytest.raises(DocumentParseError, match="line 2"):
        rows(b'{"a":1}\n{bad\n', "ndjson")


def test_sheets_values_ragged_rows() -> None:
    doc = json.dumps(
        {
            "range": "Inventory!A1:C3",
            "majorDimension": "ROWS",
            "values": [["sku", "qty", "loc"], ["A", "3"], ["B", "", "X"]],
        }
    ).encode()
    assert rows(doc, "sheets_values") == [
        (2, {"sku": "A", "qty": "3", "loc": None}),
        (3, {"sku": "B", "qty": None, "loc": "X"}),
    ]
    with pytest.raises(DocumentParseError, match="Google Sheets values"):
        rows(b"[1, 2]", "sheets_values")
