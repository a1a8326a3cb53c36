"""Publishing the worker's events and task results through the sidecar."""

from __future__ import annotations

from typing import Any

from headwater.contracts.events import _Event
from headwater.contracts.messages import TaskResult
from headwater.contracts.topics import PUBSUB, TASK_RESULTS
from headwater.edge.events import publish_events
from headwater.edge.sidecar import DaprSidecar
from headwater.metric_names import EVENTS_EMITTED
from headwater.telemetry import counter

__all__ = ["DaprEventPublisher", "DaprRepublisher", "DaprResultPublisher"]

events_counter = counter(EVENTS_EMITTED.name, EVENTS_EMITTED.description, EVENTS_EMITTED.unit)


class DaprEventPublisher:
    """CloudEvents on ``ingestion-events`` (``headwater.edge.events``), one call each."""

    def __init__(self, sidecar: DaprSidecar) -> None:
        self._sidecar = sidecar

    async def publish(self, event: _Event) -> None:
        await publish_events(self._sidecar, [event])
        events_counter.add(1, {"source_id": event.source_id, "type": str(getattr(event, "type", ""))})


class DaprResultPublisher:
    def __init__(self, sidecar: DaprSidecar) -> None:
        self._sidecar = sidecar

    async def publish(self, result: TaskResult) -> None:
        await self._sidecar.publish(PUBSUB, TASK_RESULTS, result.model_dump(mode="json", by_alias=True))


class DaprRepublisher:
    def __init__(self, sidecar: DaprSidecar) -> None:
        self._sidecar = sidecar

    async def republish(self, topic: str, data: dict[str, Any]) -> None:
        await self._sidecar.publish(PUBSUB, topic, data)
