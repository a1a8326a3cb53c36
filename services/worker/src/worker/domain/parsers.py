"""Parsers keyed by ``parse.format``; each yields rows lazily with their source row number.

Row numbers are what an operator sees in the file: for tables the header row counts, so
with ``header_row: 1`` the first data row is 2; for JSON and NDJSON it is the 1-based
record or line number.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import jmespath
from charset_normalizer import from_bytes

__all__ = ["PARSERS", "DocumentParseError", "ParseOptions", "ParsedRow", "parse_document"]

SNIFF_BYTES = 64 * 1024
LIKELY_ENCODINGS = ["cp1252", "cp1250", "iso8859_15", "latin_1", "mac_roman"]


class DocumentParseError(ValueError):
    """The document cannot be parsed at all (it is dead-lettered, not retried)."""


@dataclass(frozen=True)
class ParseOptions:
    format: str
    records_path: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    header_row: int = 1


@dataclass(frozen=True)
class ParsedRow:
    row_number: int
    data: dict[str, Any]


def _headers(raw: Iterable[Any]) -> list[str]:
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, cell in enumerate(raw, start=1):
        name = str(cell).strip() if cell is not None and str(cell).strip() else f"column_{i}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        names.append(name)
    return names


def _table(rows: Iterator[tuple[int, list[Any]]], header_row: int) -> Iterator[ParsedRow]:
    headers: list[str] | None = None
    for number, cells in rows:
        if number < header_row:
            continue
        if headers is None:
            headers = _headers(cells)
            continue
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        data = {h: (cells[i] if i < len(cells) else None) for i, h in enumerate(headers)}
        for extra in range(len(headers), len(cells)):
            data[f"column_{extra + 1}"] = cells[extra]
        yield ParsedRow(number, data)


def _decode_stream(content: bytes, encoding: str | None) -> io.TextIOWrapper:
    if encoding is None:
        if content.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        elif content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        else:
            try:
                content[:SNIFF_BYTES].decode("utf-8")
                encoding = "utf-8"
            except UnicodeDecodeError as exc:
                if exc.start >= SNIFF_BYTES - 4:  # a multi-byte character cut at the sample's end
                    encoding = "utf-8"
                else:
                    # price lists that are not UTF-8 are nearly always a Western/Central European
                    # code page; short samples make an unrestricted guess land on CJK encodings.
                    # parse.encoding overrides this.
                    best = (
                        from_bytes(content[:SNIFF_BYTES], cp_isolation=LIKELY_ENCODINGS).best()
                        or from_bytes(content[:SNIFF_BYTES]).best()
                    )
                    encoding = best.encoding if best else "cp1252"
    return io.TextIOWrapper(io.BytesIO(content), encoding=encoding, newline="", errors="strict")


def parse_csv(content: bytes, options: ParseOptions) -> Iterator[ParsedRow]:
    stream = _decode_stream(content, options.encoding)
    try:
        sample = stream.read(SNIFF_BYTES)
    except UnicodeDecodeError as exc:
        raise DocumentParseError(f"CSV is not valid {stream.encoding}: {exc}") from None
    stream.seek(0)
    delimiter = options.delimiter
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.reader(stream, delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, cells in enumerate(reader, start=1):
                yield number, [c if c != "" else None for c in cells]
        except (UnicodeDecodeError, csv.Error) as exc:
            raise DocumentParseError(f"CSV unreadable at line {reader.line_num}: {exc}") from None

    yield from _table(rows(), options.header_row)


def parse_xlsx(content: bytes, options: ParseOptions) -> Iterator[ParsedRow]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise DocumentParseError(f"not a readable .xlsx workbook: {exc}") from None
    try:
        if options.sheet is not None and options.sheet not in book.sheetnames:
            raise DocumentParseError(
                f"sheet {options.sheet!r} not found; the workbook has: {', '.join(book.sheetnames)}"
            )
        sheet = book[options.sheet] if options.sheet else book.worksheets[0]
        rows = ((n, list(r)) for n, r in enumerate(sheet.iter_rows(values_only=True), start=1))
        yield from _table(rows, options.header_row)
    finally:
        book.close()


def _json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DocumentParseError(f"invalid JSON: {exc}") from None


def parse_json(content: bytes, options: ParseOptions) -> Iterator[ParsedRow]:
    doc = _json(content)
    if options.records_path:
        try:
            doc = jmespath.search(options.records_path, doc)
        except jmespath.exceptions.JMESPathError as exc:
            raise DocumentParseError(f"records_path {options.records_path!r} is invalid: {exc}") from None
        if doc is None:
            return
        if not isinstance(doc, list):
            raise DocumentParseError(
                f"records_path {options.records_path!r} selects a {type(doc).__name__}, not a list of records"
            )
    records = doc if isinstance(doc, list) else [doc]
    for number, record in enumerate(records, start=1):
        yield ParsedRow(number, record if isinstance(record, dict) else {"value": record})


def parse_ndjson(content: bytes, options: ParseOptions) -> Iterator[ParsedRow]:
    for number, line in enumerate(io.BytesIO(content), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise DocumentParseError(f"invalid JSON on line {number}: {exc}") from None
        yield ParsedRow(number, record if isinstance(record, dict) else {"value": record})


def parse_sheets_values(content: bytes, options: ParseOptions) -> Iterator[ParsedRow]:
    doc = _json(content)
    if not isinstance(doc, dict) or not isinstance(doc.get("values", []), list):
        raise DocumentParseError("not a Google Sheets values response (expected an object with 'values')")
    if doc.get("majorDimension", "ROWS") != "ROWS":
        raise DocumentParseError("only majorDimension ROWS is supported")
    rows = ((n, [c if c != "" else None for c in r]) for n, r in enumerate(doc.get("values", []), start=1))
    yield from _table(rows, options.header_row)


PARSERS: dict[str, Callable[[bytes, ParseOptions], Iterator[ParsedRow]]] = {
    "csv": parse_csv,
    "xlsx": parse_xlsx,
    "json": parse_json,
    "ndjson": parse_ndjson,
    "sheets_values": parse_sheets_values,
}


def parse_document(content: bytes, options: ParseOptions) -> Iterator[ParsedRow]:
    parser = PARSERS.get(options.format)
    if parser is None:
        raise DocumentParseError(f"no parser for format {options.format!r}; known: {', '.join(PARSERS)}")
    return parser(content, options)
