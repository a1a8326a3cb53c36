"""worker.domain.parsers: every format on good and malformed input."""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any

import pytest
from openpyxl import Workbook

from worker.domain.parsers import PARSERS, DocumentParseError, ParseOptions, detect_encoding, parse_document


def rows(content: bytes, fmt: str, **options: Any) -> list[tuple[int, dict[str, Any]]]:
    return [(r.row_number, r.data) for r in parse_document(content, ParseOptions(format=fmt, **options))]


def xlsx(sheets: dict[str, list[list[Any]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for name, data in sheets.items():
        sheet = book.create_sheet(name)
        for row in data:
            sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def sheets_values(values: list[list[Any]], dimension: str = "ROWS") -> bytes:
    return json.dumps({"range": "Prices!A1:Z100", "majorDimension": dimension, "values": values}).encode()


# --- registry ---------------------------------------------------------------------------------


def test_registry_covers_the_config_formats_and_unknown_formats_list_them() -> None:
    assert set(PARSERS) == {"json", "ndjson", "csv", "xlsx", "sheets_values"}
    with pytest.raises(DocumentParseError, match="no parser for format 'xml'; known: csv, xlsx"):
        parse_document(b"", ParseOptions(format="xml"))


def test_parsing_is_lazy() -> None:
    it = parse_document(b"a\n1\n2\n", ParseOptions(format="csv"))
    assert next(it).data == {"a": "1"}
    lazy_error = parse_document(b"{nope", ParseOptions(format="json"))  # nothing read yet
    with pytest.raises(DocumentParseError):
        next(lazy_error)


def test_header_row_is_one_based() -> None:
    with pytest.raises(ValueError, match="1-based"):
        ParseOptions(format="csv", header_row=0)


# --- csv --------------------------------------------------------------------------------------


def test_csv_rows_are_keyed_by_header_and_numbered_as_in_the_file() -> None:
    assert rows(b"sku,price\nA,1.5\nB,2\n", "csv") == [
        (2, {"sku": "A", "price": "1.5"}),
        (3, {"sku": "B", "price": "2"}),
    ]


def test_csv_semicolon_is_detected_and_numbers_stay_text() -> None:
    content = b"sku;price;qty\nA;1.234,50;3\nB;12,5;4\n"
    assert rows(content, "csv") == [
        (2, {"sku": "A", "price": "1.234,50", "qty": "3"}),
        (3, {"sku": "B", "price": "12,5", "qty": "4"}),
    ]


@pytest.mark.parametrize("delimiter", ["\t", "|"])
def test_csv_other_delimiters_are_detected(delimiter: str) -> None:
    content = f"a{delimiter}b\n1{delimiter}2\n".encode()
    assert rows(content, "csv") == [(2, {"a": "1", "b": "2"})]


def test_csv_configured_delimiter_wins_and_single_column_falls_back() -> None:
    assert rows(b"a;b\n1;2\n", "csv", delimiter=",") == [(2, {"a;b": "1;2"})]
    assert rows(b"name\nAlpha\nBeta\n", "csv") == [(2, {"name": "Alpha"}), (3, {"name": "Beta"})]


def test_csv_latin1_is_detected() -> None:
    content = "Artikel;Preis;Beschreibung\nA-1;12,50;Größe M, Weiß\n".encode("latin-1")
    assert detect_encoding(content) != "utf-8"
    assert rows(content, "csv") == [(2, {"Artikel": "A-1", "Preis": "12,50", "Beschreibung": "Größe M, Weiß"})]


def test_csv_latin1_after_a_long_ascii_prefix_is_still_detected() -> None:
    ascii_part = "".join(f"SKU-{i},{i}.00\n" for i in range(10_000))  # > 64 KB of plain ASCII
    content = ("sku,price\n" + ascii_part + "Café,1.00\n").encode("cp1252")
    out = rows(content, "csv")
    assert out[-1] == (10_002, {"sku": "Café", "price": "1.00"})


def test_csv_utf16_with_bom_and_without() -> None:
    assert rows("a;b\n1;ä\n".encode("utf-16"), "csv") == [(2, {"a": "1", "b": "ä"})]
    assert rows("a,b\n1,2\n".encode("utf-16-le"), "csv") == [(2, {"a": "1", "b": "2"})]
    assert rows("a,b\n1,2\n".encode("utf-16-be"), "csv") == [(2, {"a": "1", "b": "2"})]


def test_csv_utf8_bom_is_not_part_of_the_first_header() -> None:
    assert rows(b"\xef\xbb\xbfsku,price\nA,1\n", "csv") == [(2, {"sku": "A", "price": "1"})]


def test_csv_configured_encoding_and_undecodable_content() -> None:
    assert rows("a\né\n".encode("cp1252"), "csv", encoding="cp1252") == [(2, {"a": "é"})]
    with pytest.raises(DocumentParseError, match="not valid utf-8"):
        rows(b"a\n\xff\xfe\xfa\n", "csv", encoding="utf-8")
    with pytest.raises(DocumentParseError, match="unknown encoding 'klingon'"):
        rows(b"a\n1\n", "csv", encoding="klingon")


def test_csv_ragged_rows_empty_and_duplicate_headers_and_blank_lines() -> None:
    content = b"a,,a,a_2\n1,2\n\n,,\n3,4,5,6,7\n"
    assert rows(content, "csv") == [
        (2, {"a": "1", "column_2": "2", "a_2": None, "a_2_2": None}),
        (5, {"a": "3", "column_2": "4", "a_2": "5", "a_2_2": "6", "column_5": "7"}),
    ]


def test_csv_header_row_further_down() -> None:
    content = b"Price list 2026\n\nsku,price\nA,1\n"
    assert rows(content, "csv", header_row=3) == [(4, {"sku": "A", "price": "1"})]


def test_csv_quoted_cells_with_delimiters_and_newlines() -> None:
    content = b'sku,desc\nA,"bolt, M8\nzinc"\nB,nut\n'
    assert rows(content, "csv") == [(2, {"sku": "A", "desc": "bolt, M8\nzinc"}), (3, {"sku": "B", "desc": "nut"})]


def test_csv_empty_file_and_header_only() -> None:
    assert rows(b"", "csv") == []
    assert rows(b"only,header\n", "csv") == []
    assert rows(b"\n\n", "csv") == []


def test_csv_malformed_quoting_is_a_parse_error() -> None:
    with pytest.raises(DocumentParseError, match="CSV unreadable"):
        rows(b'a,b\n1,"x' + b"y" * 200_000 + b"\n", "csv", delimiter=",")


# --- xlsx -------------------------------------------------------------------------------------


def test_xlsx_first_sheet_by_default_typed_cells_and_numbers_as_text() -> None:
    when = datetime(2026, 3, 1, 12, 0)
    content = xlsx({"Prices": [["SKU", "Price", "Since"], ["A", "12.5", when], ["B", 7, None]]})
    assert rows(content, "xlsx") == [
        (2, {"SKU": "A", "Price": "12.5", "Since": when}),
        (3, {"SKU": "B", "Price": 7, "Since": None}),
    ]


def test_xlsx_sheet_by_name_and_missing_sheet_lists_the_sheets() -> None:
    content = xlsx({"Info": [["x"], [1]], "Prices": [["sku"], ["A"]]})
    assert rows(content, "xlsx", sheet="Prices") == [(2, {"sku": "A"})]
    with pytest.raises(DocumentParseError, match="sheet 'Nope' not found; the workbook has: Info, Prices"):
        rows(content, "xlsx", sheet="Nope")


def test_xlsx_ragged_rows_gaps_and_header_row() -> None:
    content = xlsx({"S": [["Supplier X"], [], ["sku", None, "sku"], ["A", 1], [None, None], ["B", 2, "b", "extra"]]})
    assert rows(content, "xlsx", header_row=3) == [
        (4, {"sku": "A", "column_2": 1, "sku_2": None}),
        (6, {"sku": "B", "column_2": 2, "sku_2": "b", "column_4": "extra"}),
    ]


def test_xlsx_empty_sheet_has_no_rows() -> None:
    assert rows(xlsx({"Empty": []}), "xlsx") == []
    assert rows(xlsx({"Header": [["a", "b"]]}), "xlsx") == []


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"sku,price\nA,1\n", "not a zip archive"),
        (b"", "not a zip archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "legacy .xls or an encrypted workbook"),
    ],
)
def test_xlsx_that_is_not_a_workbook(content: bytes, reason: str) -> None:
    with pytest.raises(DocumentParseError, match=reason):
        rows(content, "xlsx")


def test_xlsx_zip_without_a_workbook() -> None:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(DocumentParseError, match=r"not a readable \.xlsx workbook"):
        rows(buf.getvalue(), "xlsx")


# --- json / ndjson ----------------------------------------------------------------------------


def test_json_top_level_list_single_object_and_scalars() -> None:
    assert rows(b'[{"a": 1}, {"a": 2}]', "json") == [(1, {"a": 1}), (2, {"a": 2})]
    assert rows(b'{"a": 1}', "json") == [(1, {"a": 1})]
    assert rows(b"[1, null]", "json") == [(1, {"value": 1}), (2, {"value": None})]
    assert rows(b"[]", "json") == []


def test_json_records_path() -> None:
    doc = json.dumps({"data": {"items": [{"a": 1}, {"a": 2}]}, "n": 2}).encode()
    assert rows(doc, "json", records_path="data.items") == [(1, {"a": 1}), (2, {"a": 2})]
    assert rows(doc, "json", records_path="data.items[?a > `1`]") == [(1, {"a": 2})]


@pytest.mark.parametrize(
    ("content", "path", "reason"),
    [
        (b'{"data": {"items": []}}', "data", "records_path 'data' selects a dict, not a list of records"),
        (b'{"n": 2}', "n", "selects a int, not a list"),
        (b'{"n": 2}', "[[", "records_path '\\[\\[' is not valid JMESPath"),
        (b"{nope", None, "invalid JSON: Expecting property name"),
        (b'{"a": 1} trailing', None, "invalid JSON: Extra data"),
        (b"", None, "invalid JSON"),
        (b"\xff\xfe\xfa", None, "invalid JSON"),
        (b'"just text"', None, "JSON document is a str, not a list of records or an object"),
    ],
)
def test_json_errors_are_precise(content: bytes, path: str | None, reason: str) -> None:
    with pytest.raises(DocumentParseError, match=reason):
        rows(content, "json", records_path=path)


def test_ndjson_counts_lines_including_blank_ones() -> None:
    content = b'\xef\xbb\xbf{"a":1}\n\n{"a":2}\r\n3\n'
    assert rows(content, "ndjson") == [(1, {"a": 1}), (3, {"a": 2}), (4, {"value": 3})]
    assert rows(b"", "ndjson") == []


def test_ndjson_bad_line_names_the_line() -> None:
    with pytest.raises(DocumentParseError, match="invalid JSON on line 2"):
        rows(b'{"a":1}\n{bad\n', "ndjson")


# --- Google Sheets ----------------------------------------------------------------------------


def test_sheets_values_ragged_rows_and_blank_cells() -> None:
    doc = sheets_values([["sku", "qty", "loc"], ["A", "3"], [], ["B", "", "X", "extra"]])
    assert rows(doc, "sheets_values") == [
        (2, {"sku": "A", "qty": "3", "loc": None}),
        (4, {"sku": "B", "qty": None, "loc": "X", "column_4": "extra"}),
    ]


def test_sheets_values_columns_are_transposed() -> None:
    doc = sheets_values([["sku", "A", "B"], ["qty", "3"]], dimension="COLUMNS")
    assert rows(doc, "sheets_values") == [(2, {"sku": "A", "qty": "3"}), (3, {"sku": "B", "qty": None})]


def test_sheets_values_empty_range_has_no_values_key() -> None:
    assert rows(b'{"range": "Sheet1!A1:C3", "majorDimension": "ROWS"}', "sheets_values") == []


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"[1, 2]", "not a Google Sheets values response"),
        (b'{"values": [1, 2]}', "must be a list of lists"),
        (b'{"values": [], "majorDimension": "DIAGONAL"}', "unknown majorDimension 'DIAGONAL'"),
        (b"{", "invalid JSON"),
    ],
)
def test_sheets_values_malformed(content: bytes, reason: str) -> None:
    with pytest.raises(DocumentParseError, match=reason):
        rows(content, "sheets_values")


def test_json_records_path_selecting_nothing_is_an_empty_document() -> None:
    assert list(parse_document(b'{"n": 2, "items": null}', ParseOptions(format="json", records_path="items"))) == []
    assert list(parse_document(b'{"n": 2}', ParseOptions(format="json", records_path="items"))) == []
