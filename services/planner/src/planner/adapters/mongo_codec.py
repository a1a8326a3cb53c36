"""How times, windows and cursors are stored: BSON dates (read back as UTC), ``{"from", "to"}``,
``{"value", "kind", "sort", "updated_at", "task_id"}``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from headwater.contracts.messages import TimeWindow
from planner.domain.cursor import StoredCursor

__all__ = ["aware", "cursor_doc", "cursor_from_doc", "window_doc", "window_from_doc"]


def aware(value: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime (MongoDB hands naive UTC back)."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def window_doc(w: TimeWindow) -> dict[str, datetime]:
    return {"from": w.start, "to": w.end}


def window_from_doc(doc: dict[str, Any] | None) -> TimeWindow | None:
    if not doc:
        return None
    return TimeWindow.model_validate({"from": aware(doc["from"]), "to": aware(doc["to"])})


def cursor_doc(c: StoredCursor) -> dict[str, Any]:
    return {"value": c.value, "kind": c.kind, "sort": c.sort, "updated_at": c.updated_at, "task_id": c.task_id}


def cursor_from_doc(doc: dict[str, Any] | None) -> StoredCursor | None:
    if not doc:
        return None
    updated_at = aware(doc["updated_at"]) or datetime.now(UTC)
    return StoredCursor(doc["value"], doc["kind"], doc["sort"], updated_at, doc["task_id"])
