"""The incremental cursor of a document (``ingestion.incremental``): the highest ``cursor_path``
value over the records it stored, reported to the planner in its task result."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from headwater.config.incremental import CursorKind, CursorValue, read_cursor, wire_cursor

__all__ = ["CursorMax", "field_at"]


def field_at(record: dict[str, Any], path: str) -> Any:
    """The value at the dotted ``path`` of ``record`` (None when a step is missing)."""
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


class CursorMax:
    """The highest cursor seen so far: datetimes compared as datetimes (ISO-8601 text read as
    one, naive = UTC), numbers as numbers; a missing value, or one that is not of the cursor's
    kind, is skipped."""

    def __init__(self, path: str, kind: CursorKind) -> None:
        self._path, self._kind = path, kind
        self._highest: datetime | int | float | None = None

    def add(self, records: Iterable[dict[str, Any]]) -> None:
        for record in records:
            value = read_cursor(field_at(record, self._path), self._kind)
            if value is not None and (self._highest is None or value > self._highest):  # type: ignore[operator]
                self._highest = value

    @property
    def value(self) -> CursorValue | None:
        """The highest as it travels (ISO-8601 ``Z`` text or a number); None when no record had one."""
        return None if self._highest is None else wire_cursor(self._highest)
