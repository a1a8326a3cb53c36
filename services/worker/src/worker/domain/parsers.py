"""Parsers keyed by ``parse.format``; each yields rows lazily with their source row number.

Row numbers are what an operator sees in the file: for tables (``csv``, ``xlsx``,
``sheets_values``) the header row counts, so with ``header_row: 1`` the first data row is 2;
for ``json`` it is the 1-based index in the records list and for ``ndjson`` the 1-based line.

Table rows become dicts keyed by header. Empty header cells are named ``column_<n>`` (n is the
1-based column), a repeated header gets ``_2``, ``_3`` …; a row shorter than the header fills
the missing cells with ``None`` and non-empty cells beyond the header are kept as
``column_<n>``. Empty cells are ``None``; fully empty rows are skipped; an empty file or sheet
yields nothing.

Memory stays bounded for tables: CSV is decoded as a stream over the bytes and xlsx sheets are
read row by row (openpyxl read-only mode). JSON has to be loaded whole (the standard library
has no streaming JSON parser); NDJSON is read line by line.

``DocumentParseError`` means the document as a whole is unreadable (invalid JSON, not an
xlsx workbook, ``records_path`` selecting something that is not a list, an undecodable CSV):
retrying cannot help, so the caller dead-letters it.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import zipfile
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jmespath
from charset_normalizer import from_bytes
from jmespath.exceptions import JMESPathError

__all__ = [
    "PARSERS",
    "DocumentParseError",
    "ParseOptions",
    "ParsedRow",
    "detect_encoding",
    "parse_csv",
    "parse_document",
    "parse_json",
    "parse_ndjson",
    "parse_sheets_values",
    "parse_xlsx",
]

SNIFF_BYTES = 64 * 1024
CHECK_CHUNK = 1024 * 1024
CSV_DELIMITERS = ",;\t|"
# Price lists that are not UTF-8 are nearly always a Western/Central European code page, and an
# unrestricted guess on a short sample tends to land on CJK encodings; ``parse.encoding`` overrides.
LIKELY_ENCODINGS = ["cp1252", "cp1250", "iso8859_15", "latin_1", "mac_roman"]
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class DocumentParseError(ValueError):
    """The document cannot be parsed at all; ``args[0]`` says precisely why."""


@dataclass(frozen=True)
class ParseOptions:
    """The ``parse`` section of a source config, as the domain sees it."""

    format: str
    records_path: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    header_row: int = 1

    def __post_init__(self) -> None:
        if self.header_row < 1:
            raise ValueError(f"header_row is 1-based, got {self.header_row}")


@dataclass(frozen=True)
class ParsedRow:
    """One record of a document and where it was: ``row_number`` as the operator counts it."""

    row_number: int
    data: dict[str, Any]


# --- tables ---------------------------------------------------------------------------------


def _unique(name: str, used: Container[str]) -> str:
    if name not in used:
        return name
    n = 2
    while f"{name}_{n}" in used:
        n += 1
    return f"{name}_{n}"


def _headers(raw: Iterable[Any]) -> list[str]:
    names: list[str] = []
    used: set[str] = set()
    for i, cell in enumerate(raw, start=1):
        text = "" if cell is None else str(cell).strip()
        name = _unique(text or f"column_{i}", used)
        used.add(name)
        names.append(name)
    return names


def _is_blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _table(rows: Iterable[tuple[int, Any]], header_row: int) -> Iterator[ParsedRow]:
    """``(row number, cells)`` → dict rows keyed by the header found on ``header_row``."""
    headers: list[str] | None = None
    for number, cells in rows:
        if number < header_row:
            continue
        if headers is None:
            headers = _headers(cells)
            continue
        if all(_is_blank(c) for c in cells):
            continue
        width = len(headers)
        data = dict(zip(headers, cells, strict=False))
        if len(cells) < width:
            data.update(dict.fromkeys(headers[len(cells) :]))
        for i in range(width, len(cells)):
            if not _is_blank(cells[i]):
                data[_unique(f"column_{i + 1}", data)] = cells[i]
        yield ParsedRow(number, data)


# --- csv --------------------------------------------------------------------------------------


def _first_non_utf8(content: bytes) -> int | None:
    """Offset of the first byte that is not valid UTF-8, checked chunk-wise (no full decode)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(content), CHECK_CHUNK):
        try:
            decoder.decode(content[start : start + CHECK_CHUNK], final=start + CHECK_CHUNK >= len(content))
        except UnicodeDecodeError as exc:
            return start + exc.start
    return None


def _utf16_without_bom(sample: bytes) -> str | None:
    # UTF-16 text without a BOM decodes as "valid" UTF-8 full of NULs; the NULs' side tells the order.
    if len(sample) < 4 or sample.count(0) < len(sample) // 4:
        return None
    odd, even = sample[1::2].count(0), sample[0::2].count(0)
    if odd > 2 * even:
        return "utf-16-le"
    if even > 2 * odd:
        return "utf-16-be"
    return None


def detect_encoding(content: bytes) -> str:
    """BOM first, then UTF-8 if the whole document is valid UTF-8, else the best guess of
    charset-normalizer on the text around the first non-UTF-8 byte (Western code pages first)."""
    if content.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    utf16 = _utf16_without_bom(content[:SNIFF_BYTES])
    if utf16:
        return utf16
    bad = _first_non_utf8(content)
    if bad is None:
        return "utf-8"
    start = max(0, bad - 1024)
    sample = content[start : start + SNIFF_BYTES]
    best = from_bytes(sample, cp_isolation=LIKELY_ENCODINGS).best() or from_bytes(sample).best()
    return best.encoding if best else "cp1252"


def _sniff_delimiter(sample: str) -> str:
    if "\n" in sample.rstrip("\r\n"):
        sample = sample[: sample.rfind("\n")]  # whole lines only: a cut line misleads the sniffer
    try:
        return csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        return ","


def parse_csv(content: bytes, options: ParseOptions) -> Iterator[ParsedRow]:
    """Delimited text: delimiter sniffed over the first 64 KB unless configured (fallback ``,``)."""
    encoding = options.encoding or detect_encoding(content)
    try:
        stream = io.TextIOWrapper(io.BytesIO(content), encoding=encoding, newline="", errors="strict")
    except LookupError:
        raise DocumentParseError(f"unknown encoding {encoding!r}") from None
    try:
        sample = stream.read(SNIFF_BYTES)
    except UnicodeDecodeError as exc:
        raise DocumentParseError(f"CSV is not valid {encoding}: {exc}") from None
    stream.seek(0)
    reader = csv.reader(stream, delimiter=options.delimiter or _sniff_delimiter(sample))

    def rows() -> Iterator[tuple[int, list[Any]]]:
        # records, not physical lines, are numbered (as a spreadsheet shows the file): a quoted
        # cell spanning lines is still one row
        try:
            for number, cells in enumerate(reader, start=1):
                yield number, [c if c != "" else None for c in cells]
        except UnicodeDecodeError as exc:
            raise DocumentParseError(f"CSV is not valid {encoding} after line {reader.line_num}: {exc}") from None
        except csv.Error as exc:
            raise DocumentParseError(f"CSV unreadable at line {reader.line_num}: {exc}") from None

    yield from _table(rows(), options.header_row)


# --- xlsx -------------------------------------------------------------------------------------


def parse_xlsx(content: bytes, options: ParseOptions) -> Iterator[ParsedRow]:
    """Excel 2007+ workbooks, read-only and streaming; cached formula results, not formulas."""
    from openpyxl import load_workbook  # imported on use: the worker only pays for it with xlsx

    if content.startswith(OLE_MAGIC):
        raise DocumentParseError("not an .xlsx workbook: this is a legacy .xls or an encrypted workbook")
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except zipfile.BadZipFile:
        raise DocumentParseError("not an .xlsx workbook: the content is not a zip archive") from None
    except (KeyError, OSError, ValueError, TypeError) as exc:
        raise DocumentParseError(f"not a readable .xlsx workbook: {exc}") from None
    try:
        if options.sheet is not None and options.sheet not in book.sheetnames:
            raise DocumentParseError(
                f"sheet {options.sheet!r} not found; the workbook has: {', '.join(book.sheetnames)}"
            )
        sheet = book[options.sheet] if options.sheet is not None else book.worksheets[0]
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()  # writers often store a wrong size; rows come ragged instead
        rows = enumerate(sheet.iter_rows(values_only=True), start=1)
        yield from _table(((n, [None if c == "" else c for c in r]) for n, r in rows), options.header_row)
    finally:
        book.close()


# --- json -------------------------------------------------------------------------------------


def _load_json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except UnicodeDecodeError as exc:
        raise DocumentParseError(f"invalid JSON: not UTF-8/16/32 text ({exc.reason} at byte {exc.start})") from None
    except ValueError as exc:
        raise DocumentParseError(f"invalid JSON: {exc}") from None


@lru_cache(maxsize=256)
def _compiled(expression: str) -> Any:
    try:
        return jmespath.compile(expression)
    except JMESPathError as exc:
        raise DocumentParseError(f"records_path {expression!r} is not valid JMESPath: {exc}") from None


def _as_record(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {"value": value}


def parse_json(content: bytes, options: ParseOptions) -> Iterator[ParsedRow]:
    """A JSON document: the list ``records_path`` selects, else a top-level list, else the
    single top-level object as one record. Scalars in the list become ``{"value": x}``."""
    doc = _load_json(content)
    if options.records_path:
        doc = _compiled(options.records_path).search(doc)
        if doc is None:
            return  # APIs often omit or null an empty list: no records, not an error
        if not isinstance(doc, list):
            raise DocumentParseError(
                f"records_path {options.records_path!r} selects a {type(doc).__name__}, not a list of records"
            )
    elif not isinstance(doc, list | dict):
        raise DocumentParseError(f"JSON document is a {type(doc).__name__}, not a list of records or an object")
    records = doc if isinstance(doc, list) else [doc]
    for number, record in enumerate(records, start=1):
        yield ParsedRow(number, _as_record(record))


def parse_ndjson(content: bytes, options: ParseOptions) -> Iterator[ParsedRow]:
    """One JSON value per line; blank lines are skipped but still counted."""
    for number, line in enumerate(io.BytesIO(content), start=1):
        if number == 1 and line.startswith(codecs.BOM_UTF8):
            line = line[len(codecs.BOM_UTF8) :]
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:  # UnicodeDecodeError included
            raise DocumentParseError(f"invalid JSON on line {number}: {exc}") from None
        yield ParsedRow(number, _as_record(record))


# --- Google Sheets ----------------------------------------------------------------------------


def parse_sheets_values(content: bytes, options: ParseOptions) -> Iterator[ParsedRow]:
    """A Sheets API ``spreadsheets.values.get`` response. The API drops trailing empty cells and
    rows, so rows are ragged; ``majorDimension: COLUMNS`` is transposed to rows."""
    doc = _load_json(content)
    if not isinstance(doc, dict) or not isinstance(doc.get("values", []), list):
        raise DocumentParseError("not a Google Sheets values response (expected an object with a 'values' list)")
    values = doc.get("values", [])
    if not all(isinstance(r, list) for r in values):
        raise DocumentParseError("not a Google Sheets values response ('values' must be a list of lists)")
    dimension = doc.get("majorDimension", "ROWS")
    if dimension == "COLUMNS":
        height = max((len(c) for c in values), default=0)
        values = [[c[i] if i < len(c) else None for c in values] for i in range(height)]
    elif dimension != "ROWS":
        raise DocumentParseError(f"unknown majorDimension {dimension!r}; expected ROWS or COLUMNS")
    rows = ((n, [None if c == "" else c for c in r]) for n, r in enumerate(values, start=1))
    yield from _table(rows, options.header_row)


Parser = Callable[[bytes, ParseOptions], Iterator[ParsedRow]]

PARSERS: dict[str, Parser] = {
    "csv": parse_csv,
    "xlsx": parse_xlsx,
    "json": parse_json,
    "ndjson": parse_ndjson,
    "sheets_values": parse_sheets_values,
}


def parse_document(content: bytes, options: ParseOptions) -> Iterator[ParsedRow]:
    """Rows of ``content`` in source order, lazily. An unknown format fails at once; anything
    wrong with the document itself raises ``DocumentParseError`` while iterating."""
    parser = PARSERS.get(options.format)
    if parser is None:
        raise DocumentParseError(f"no parser for format {options.format!r}; known: {', '.join(PARSERS)}")
    return parser(content, options)
