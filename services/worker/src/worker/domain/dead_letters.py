"""A dead letter: a message that could not be processed, kept until an operator replays it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["DeadLetter"]


@dataclass(frozen=True)
class DeadLetter:
    """``letter_id`` is the CloudEvent id (a redelivered dead letter is kept once); ``data`` is
    the original message, published again as it was on ``topic`` when replayed."""

    letter_id: str
    topic: str
    data: dict[str, Any]
    source_id: str | None
    task_id: str | None
    received_at: datetime
    replayed_at: datetime | None = None
