"""How times and windows are stored: BSON dates (read back as UTC) and ``{"from", "to"}``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from headwater.contracts.messages import TimeWindow

__all__ = ["aware", "window_doc", "window_from_doc"]


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
