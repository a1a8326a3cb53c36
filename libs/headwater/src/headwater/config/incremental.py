"""``ingestion.incremental``: fetch only what changed since the highest cursor value stored.

Like dlt's ``incremental`` or Airbyte's ``cursor_field``: ``cursor_path`` names a field of the
mapped records, ``param`` the query parameter that carries the cursor to the API. The kind of
the cursor is set by ``initial_value``: ISO-8601 text (or a YAML timestamp) makes a datetime
cursor, a number a numeric one. ``read_cursor`` is the one reading of a cursor value that
every service shares (the worker over its records, the planner over the reports,
collection-model over a work item): what it cannot read as the cursor's kind is no cursor value.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema, field_validator, model_validator

from headwater.config.durations import DURATION_PATTERN, format_duration, parse_duration
from headwater.config.errors import raise_issues
from headwater.config.section import Section

__all__ = [
    "CursorKind",
    "CursorValue",
    "IncrementalSpec",
    "cursor_kind_of",
    "iso_z",
    "read_cursor",
    "wire_cursor",
]

CursorKind = Literal["datetime", "number"]
CursorValue = str | int | float
"""A cursor as it travels and is stored: ISO-8601 text in UTC (``…Z``) or a number."""

FIELD_PATH = r"^[^.\s]+(\.[^.\s]+)*$"
_INTEGER = re.compile(r"^[+-]?\d+$")
_QUERY_NAME = re.compile(r"^[^\s&=#?]+$")


def iso_z(moment: datetime) -> str:
    """ISO-8601 in UTC with ``Z``: ``2026-01-01T06:00:00Z`` (microseconds only when there are some)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _datetime(value: Any) -> datetime | None:
    if isinstance(value, str) and value.strip():
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text) if _INTEGER.match(text) else float(text)
        except ValueError:
            return None
    if isinstance(value, int):
        return value
    return value if isinstance(value, float) and math.isfinite(value) else None


def read_cursor(value: Any, kind: CursorKind) -> datetime | int | float | None:
    """``value`` as a cursor of ``kind``, comparable with the others of that kind; None when it is none.

    datetime: a datetime, a date (its midnight) or ISO-8601 text; naive means UTC; read as an
    aware UTC datetime. number: an int or a finite float, or text holding one (``"42"``,
    ``"4.2"``); booleans are not numbers."""
    return _datetime(value) if kind == "datetime" else _number(value)


def wire_cursor(value: datetime | int | float) -> CursorValue:
    """How a read cursor travels and is stored: a datetime as ISO-8601 ``Z`` text, a number as is."""
    return iso_z(value) if isinstance(value, datetime) else value


def cursor_kind_of(value: CursorValue) -> CursorKind:
    """The kind a travelling cursor value has: text is a datetime, a number a number."""
    return "datetime" if isinstance(value, str) else "number"


def _initial_value(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"initial_value {value!r} is neither an ISO-8601 datetime nor a number")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"initial_value {value!r} is not a finite number")
        return value
    moment = _datetime(value) if isinstance(value, str | date) else None
    if moment is None:
        raise ValueError(
            f"initial_value {value!r} is neither an ISO-8601 datetime (like 2026-01-01T00:00:00Z) nor a number"
        )
    return iso_z(moment)


def _lag(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"invalid lag {value!r}: a duration (5m, 1h) for a datetime cursor, a number for a numeric")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"lag {value!r} must be a number of at least 0")
        return value
    return parse_duration(value)


def _dump_lag(value: timedelta | int | float) -> str | int | float:
    return format_duration(value) if isinstance(value, timedelta) else value


InitialValue = Annotated[
    str | int | float,
    BeforeValidator(_initial_value),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "format": "date-time"}, {"type": "number"}],
            "examples": ["2026-01-01T00:00:00Z", 0],
        }
    ),
]
Lag = Annotated[
    timedelta | int | float,
    BeforeValidator(_lag),
    PlainSerializer(_dump_lag),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": DURATION_PATTERN}, {"type": "number", "minimum": 0}],
            "examples": ["5m", "1h", 100],
        }
    ),
]


class IncrementalSpec(Section):
    """Fetch only what changed: each request carries the highest cursor value stored so far."""

    cursor_path: str
    """dotted path of a field of the mapped record (after map/validate) that grows with every
    change, e.g. updated_at or meta.version"""
    param: str = Field(min_length=1)
    """query parameter the cursor is sent in (e.g. since, updated_after)"""
    initial_value: InitialValue
    """sent until a cursor is stored; its kind sets the cursor's: an ISO-8601 datetime (naive = UTC;
    stored as UTC text with Z) or a number"""
    lag: Lag | None = None
    """subtracted from the stored cursor before it is sent (not from initial_value), to fetch late
    writers again: a duration (30s, 5m, 1h) for a datetime cursor, a number for a numeric one"""

    @property
    def kind(self) -> CursorKind:
        """``number`` when ``initial_value`` is a number, else ``datetime``."""
        return "datetime" if isinstance(self.initial_value, str) else "number"

    @field_validator("cursor_path")
    @classmethod
    def _field_path(cls, value: str) -> str:
        if not re.fullmatch(FIELD_PATH, value):
            raise ValueError(f"{value!r} is not a dotted path of field names (e.g. updated_at, meta.updated_at)")
        return value

    @field_validator("param")
    @classmethod
    def _query_name(cls, value: str) -> str:
        if not _QUERY_NAME.match(value):
            raise ValueError(f"param {value!r} is not a query parameter name (no spaces, '&', '=', '?' or '#')")
        return value

    @model_validator(mode="after")
    def _lag_fits_the_kind(self) -> IncrementalSpec:
        issues: list[tuple[tuple[str, ...], str]] = []
        if isinstance(self.lag, timedelta) and self.kind == "number":
            issues.append(
                (("lag",), "a numeric cursor (initial_value is a number) takes a number as lag, not a duration")
            )
        elif self.lag is not None and not isinstance(self.lag, timedelta) and self.kind == "datetime":
            issues.append(
                (("lag",), "a datetime cursor (initial_value is a datetime) takes a duration as lag (30s, 5m, 1h)")
            )
        raise_issues(issues)
        return self
