"""A dead letter: a message that could not be processed, kept until an operator replays it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

__all__ = ["DeadLetter", "LetterOutcome"]

LetterOutcome = Literal["parked", "recovered"]


@dataclass(frozen=True)
class DeadLetter:
    """``letter_id`` is the CloudEvent id (a redelivered dead letter is kept once); ``data`` is
    the original message, published again as it was on ``topic`` when replayed. ``cause``: why it
    is dead; ``outcome``: ``parked`` (waits for an operator's replay) or ``recovered`` (processed
    when it arrived on the dead-letter topic: its delivery had failed only because the worker or
    the store was down; kept as replayed, for the record)."""

    letter_id: str
    topic: str
    data: dict[str, Any]
    source_id: str | None
    task_id: str | None
    received_at: datetime
    replayed_at: datetime | None = None
    cause: str | None = None
    outcome: LetterOutcome = "parked"
