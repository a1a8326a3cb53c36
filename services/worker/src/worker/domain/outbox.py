"""A message the worker owes the world (a domain event or a task result) that is kept until it
is published: the outbox (``service_layer/outbox``)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

__all__ = ["OutboxMessage", "result_message_id"]


@dataclass(frozen=True)
class OutboxMessage:
    """``message_id``: an event's idempotency key (its CloudEvent id, which subscribers dedup by)
    or a task result's content-derived id (``result_message_id``); ``payload``: the message as
    JSON, published again as it is."""

    message_id: str
    kind: Literal["event", "result"]
    payload: dict[str, Any]
    created_at: datetime


def result_message_id(payload: dict[str, Any]) -> str:
    """The same task result (the same task, document, status and counts) has the same id."""
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:24]
    return f"task-result:{payload.get('task_id')}:{digest}"
