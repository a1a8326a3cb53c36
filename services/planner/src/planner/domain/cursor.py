"""The incremental cursor of a source (``ingestion.incremental``, kept in ``source_state.cursor``).

The worker reports the highest cursor of each document it stored; once a task is complete
and nothing of it failed — every page fetched, every document stored (rows rejected by
``validate`` do not hold it back: they are in ``parsing_logs`` for a fix and a reprocess) —
the highest of its reports becomes the source's cursor, if it is higher than the stored one.
A late task with an older cursor changes nothing. Each work item then starts from it, or
from ``initial_value`` while none is stored (or the stored one is of another kind, after
the config changed from a datetime to a numeric cursor or back).

Comparing safely: a cursor is stored with a ``sort`` form of its own kind only — a datetime
as fixed-width UTC text (``0001-01-01T00:00:00.000000Z`` … ``9999-…``, so text order is
time order), a number as the number — and an advance compares it with a stored one of the
same kind only, in one conditional single-document update.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from headwater.config import IncrementalSpec
from headwater.config.incremental import CursorKind, CursorValue, cursor_kind_of, read_cursor, wire_cursor
from headwater.contracts.messages import TaskStatus

__all__ = ["FetchStart", "StoredCursor", "fetch_start", "highest", "is_newer", "may_advance", "stored_cursor"]

CursorSort = str | int | float


@dataclass(frozen=True)
class StoredCursor:
    """``source_state.cursor``: the value as it is sent (ISO-8601 ``Z`` text or a number), its
    kind, its ``sort`` form, when and by which task it was last advanced."""

    value: CursorValue
    kind: CursorKind
    sort: CursorSort
    updated_at: datetime
    task_id: str


@dataclass(frozen=True)
class FetchStart:
    """Where a work item starts: the stored cursor (``stored``) or the config's initial value."""

    value: CursorValue
    stored: bool


def _sort(value: datetime | int | float) -> CursorSort:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return value


def stored_cursor(value: CursorValue, now: datetime, task_id: str) -> StoredCursor | None:
    """``value`` (from a task result) as it is stored; None when it cannot be read as a cursor."""
    kind = cursor_kind_of(value)
    read = read_cursor(value, kind)
    if read is None:
        return None
    return StoredCursor(wire_cursor(read), kind, _sort(read), now, task_id)


def highest(values: Iterable[CursorValue]) -> CursorValue | None:
    """The highest of the cursors a task's documents reported, compared by kind (the first's;
    values of another kind or unreadable ones are skipped)."""
    best: tuple[CursorSort, CursorValue] | None = None
    kind: CursorKind | None = None
    for value in values:
        kind = kind or cursor_kind_of(value)
        read = read_cursor(value, kind) if cursor_kind_of(value) == kind else None
        if read is None:
            continue
        sort = _sort(read)
        if best is None or sort > best[0]:  # type: ignore[operator]  # one kind: text with text, number with number
            best = (sort, wire_cursor(read))
    return best[1] if best else None


def is_newer(candidate: StoredCursor, stored: StoredCursor | None) -> bool:
    """The rule the conditional update keeps: none stored, one of another kind, or a lower one."""
    return stored is None or stored.kind != candidate.kind or candidate.sort > stored.sort  # type: ignore[operator]


def may_advance(fetch_status: str | None, document_status: Mapping[str, str]) -> bool:
    """Whether a complete task's cursors count: its fetch succeeded (every page, every item) and
    none of its documents failed."""
    return fetch_status == TaskStatus.SUCCEEDED and TaskStatus.FAILED not in document_status.values()


def fetch_start(spec: IncrementalSpec, stored: StoredCursor | None) -> FetchStart:
    """The stored cursor when it is of the config's kind, else ``initial_value``."""
    if stored is not None and stored.kind == spec.kind:
        return FetchStart(stored.value, True)
    return FetchStart(spec.initial_value, False)
