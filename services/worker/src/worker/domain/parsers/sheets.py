"""``sheets_values``: a Google Sheets API ``spreadsheets.values.get`` response."""

from __future__ import annotations

from collections.abc import Iterator

from worker.domain.parsers.json_records import load_json
from worker.domain.parsers.rows import DocumentParseError, ParsedRow, ParseOptions
from worker.domain.parsers.tables import table_rows

__all__ = ["parse_sheets_values"]


def parse_sheets_values(content: bytes, options: ParseOptions) -> Iterator[ParsedRow]:
    """A Sheets API ``spreadsheets.values.get`` response. The API drops trailing empty cells and
    rows, so rows are ragged; ``majorDimension: COLUMNS`` is transposed to rows."""
    doc = load_json(content)
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
    yield from table_rows(rows, options.header_row)
