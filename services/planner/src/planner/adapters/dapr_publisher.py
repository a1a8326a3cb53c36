"""Publishes work items through the sidecar."""

from __future__ import annotations

from typing import Any, Protocol

from headwater.contracts.messages import FetchTask
from headwater.contracts.topics import PUBSUB, WORK_ITEMS

__all__ = ["DaprWorkPublisher", "Publishing"]


class Publishing(Protocol):
    """The sidecar's publish call (``AiohttpSidecar``, or ``headwater.edge.sidecar.DaprSidecar``)."""

    async def publish(self, pubsub: str, topic: str, data: Any, metadata: dict[str, str] | None = None) -> None: ...


class DaprWorkPublisher:
    def __init__(self, sidecar: Publishing) -> None:
        self._sidecar = sidecar

    async def publish(self, task: FetchTask) -> None:
        await self._sidecar.publish(
            PUBSUB,
            WORK_ITEMS,
            task.model_dump(mode="json", by_alias=True),
            metadata={"cloudevent.id": f"work:{task.task_id}:{task.attempt}"},
        )
