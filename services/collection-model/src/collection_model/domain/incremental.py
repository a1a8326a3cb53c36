"""The query parameter of an incremental source (``ingestion.incremental``).

A work item carries where its fetch starts: the highest cursor stored (``cursor_stored``), from
which ``lag`` is subtracted so that late writers are fetched again, or the ``initial_value``,
sent as it is. Datetimes go out as ISO-8601 in UTC with ``Z`` (``2026-03-01T09:55:00Z``),
numbers as their decimal text. The parameter is part of the request template, so every page
built from it carries it (page number, offset and cursor pagination keep filtering the same
result set); a next-page URL the API hands back (``next_url``, ``link_header``) is followed as
given.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from headwater.config import IncrementalSpec
from headwater.config.incremental import CursorValue, iso_z, read_cursor

__all__ = ["cursor_params"]


def _minus(value: datetime | int | float, lag: timedelta | int | float) -> datetime | int | float:
    if isinstance(value, datetime) and isinstance(lag, timedelta):
        return value - lag
    if not isinstance(value, datetime) and not isinstance(lag, timedelta):
        return value - lag
    raise ValueError(f"lag {lag!r} does not fit cursor {value!r}")  # the config refuses this combination


def cursor_params(spec: IncrementalSpec, cursor: CursorValue | None, stored: bool) -> dict[str, str]:
    """``{param: text}``: the stored ``cursor`` minus ``lag``, or ``initial_value`` (also when the
    work item carries no cursor). ValueError when the cursor is not of the config's kind (a work
    item that cannot be processed: dead-lettered)."""
    value = spec.initial_value if cursor is None else cursor
    read = read_cursor(value, spec.kind)
    if read is None:
        raise ValueError(f"cursor {value!r} is not a {spec.kind} (the kind ingestion.incremental.initial_value sets)")
    if stored and cursor is not None and spec.lag is not None:
        try:
            read = _minus(read, spec.lag)
        except OverflowError:
            raise ValueError(f"cursor {value!r} minus lag is out of range") from None
    return {spec.param: iso_z(read) if isinstance(read, datetime) else str(read)}
