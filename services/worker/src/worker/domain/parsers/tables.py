"""Tables (``csv``, ``xlsx``, ``sheets_values``): rows of cells → dict rows keyed by header.

Empty header cells are named ``column_<n>`` (n is the 1-based column), a repeated header gets
``_2``, ``_3`` …; a row shorter than the header fills the missing cells with ``None`` and
non-empty cells beyond the header are kept as ``column_<n>``. Fully empty rows are skipped.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator
from typing import Any

from worker.domain.parsers.rows import ParsedRow

__all__ = ["table_rows"]


def _unique(name: str, used: Container[str], start: int = 2) -> str:
    if name not in used:
        return name
    n = start
    while f"{name}_{n}" in used:
        n += 1
    return f"{name}_{n}"


def _headers(raw: Iterable[Any]) -> list[str]:
    names: list[str] = []
    used: set[str] = set()
    suffix: dict[str, int] = {}  # the next suffix to try per name: 10,000 equal headers stay linear
    for i, cell in enumerate(raw, start=1):
        text = "" if cell is None else str(cell).strip()
        base = text or f"column_{i}"
        name = _unique(base, used, suffix.get(base, 2))
        if name != base:
            suffix[base] = int(name.rsplit("_", 1)[1]) + 1
        used.add(name)
        names.append(name)
    return names


def _is_blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def table_rows(rows: Iterable[tuple[int, Any]], header_row: int) -> Iterator[ParsedRow]:
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
