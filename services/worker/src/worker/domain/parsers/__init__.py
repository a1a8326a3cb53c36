"""Parsers keyed by ``parse.format``; each yields rows lazily with their source row number.

Row numbers are what an operator sees in the file: for tables (``csv``, ``xlsx``,
``sheets_values``) the header row counts, so with ``header_row: 1`` the first data row is 2;
for ``json`` it is the 1-based index in the records list and for ``ndjson`` the 1-based line.

Table rows become dicts keyed by header (naming rules in ``tables``). Empty cells are
``None``; fully empty rows are skipped; an empty file or sheet yields nothing.

Memory stays bounded for tables: CSV is decoded as a stream over the bytes and xlsx sheets are
read row by row (openpyxl read-only mode). JSON has to be loaded whole (the standard library
has no streaming JSON parser); NDJSON is read line by line.

``DocumentParseError`` means the document as a whole is unreadable (invalid JSON, not an
xlsx workbook, ``records_path`` selecting something that is not a list, an undecodable CSV):
retrying cannot help, so the caller dead-letters it.

One module per format: ``delimited`` (csv), ``xlsx``, ``json_records`` (json, ndjson),
``sheets`` (sheets_values); ``rows`` and ``tables`` are what they share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from worker.domain.parsers.delimited import detect_encoding, parse_csv
from worker.domain.parsers.json_records import parse_json, parse_ndjson
from worker.domain.parsers.rows import DocumentParseError, ParsedRow, ParseOptions
from worker.domain.parsers.sheets import parse_sheets_values
from worker.domain.parsers.xlsx import parse_xlsx

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
