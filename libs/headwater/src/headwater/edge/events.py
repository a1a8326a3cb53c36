"""Domain events through a sidecar: CloudEvent type = the event's type, id = its idempotency
key (subscribers dedup by it), subject = its source. Several go in bulk calls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from headwater.contracts.events import _Event
from headwater.contracts.topics import INGESTION_EVENTS, PUBSUB
from headwater.edge.sidecar import DaprSidecar

__all__ = ["BULK_EVENTS", "event_entry", "publish_events"]

BULK_EVENTS = 50  # entries per bulk call: a few hundred kB of keys at most


def event_entry(event: _Event) -> tuple[str, dict[str, Any], dict[str, str]]:
    """(entry id, data, CloudEvent metadata) of one event."""
    data = event.model_dump(mode="json")
    meta = {
        "cloudevent.type": data["type"],
        "cloudevent.id": event.idempotency_key,
        "cloudevent.subject": event.source_id,
    }
    return event.idempotency_key, data, meta


async def publish_events(sidecar: DaprSidecar, events: Sequence[_Event], batch: int = BULK_EVENTS) -> None:
    """Publish ``events`` on ``ingestion-events``: one alone, more in bulk calls of ``batch``.
    Raises ``DaprError`` when any was not published (a repeat is harmless: same ids)."""
    entries = [event_entry(event) for event in events]
    if len(entries) == 1:
        await sidecar.publish(PUBSUB, INGESTION_EVENTS, entries[0][1], metadata=entries[0][2])
        return
    for start in range(0, len(entries), batch):
        await sidecar.publish_bulk(PUBSUB, INGESTION_EVENTS, entries[start : start + batch])
