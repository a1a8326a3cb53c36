"""``xlsx``: Excel 2007+ workbooks, read row by row (openpyxl read-only mode)."""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any

from worker.domain.parsers.rows import DocumentParseError, ParsedRow, ParseOptions
from worker.domain.parsers.tables import table_rows

__all__ = ["parse_xlsx"]

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# What openpyxl raises on a damaged workbook while reading it lazily (read-only mode inflates and
# parses each sheet as it goes): a bad zip member, a corrupt deflate stream, malformed XML
# (``SyntaxError`` is the base of ElementTree's and lxml's parse errors), a missing part.
DAMAGED = (
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,  # a zip "version" or compression method corrupted into one zipfile lacks
    EOFError,
    SyntaxError,
    KeyError,
    IndexError,
    OSError,
    TypeError,
    ValueError,
)


def parse_xlsx(content: bytes, options: ParseOptions) -> Iterator[ParsedRow]:
    """Excel 2007+ workbooks, read-only and streaming; cached formula results, not formulas."""
    from openpyxl import load_workbook  # imported on use: the worker only pays for it with xlsx

    if content.startswith(OLE_MAGIC):
        raise DocumentParseError("not an .xlsx workbook: this is a legacy .xls or an encrypted workbook")
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except zipfile.BadZipFile:
        raise DocumentParseError("not an .xlsx workbook: the content is not a zip archive") from None
    except DAMAGED as exc:
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
        yield from table_rows(((n, [None if c == "" else c for c in r]) for n, r in _checked(rows)), options.header_row)
    finally:
        book.close()


def _checked(rows: Iterator[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
    """``rows``, with a damaged workbook found while reading turned into DocumentParseError."""
    number = 0
    try:
        for number, cells in rows:
            yield number, cells
    except DAMAGED as exc:
        raise DocumentParseError(f"not a readable .xlsx workbook: damaged after row {number}: {exc}") from None
