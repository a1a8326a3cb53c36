"""Publishes work items through the sidecar."""

from __future__ import annotations

from headwater.contracts.messages import FetchTask
from headwater.contracts.topics import PUBSUB, WORK_ITEMS
from headwater.edge.sidecar import DaprSidecar

__all__ = ["DaprWorkPublisher"]


class DaprWorkPublisher:
    def __init__(self, sidecar: DaprSidecar) -> None:
        self._sidecar = sidecar

    async def publish(self, task: FetchTask) -> None:
        await self._sidecar.publish(
            PUBSUB,
            WORK_ITEMS,
            task.model_dump(mode="json", by_alias=True),
            metadata={"cloudevent.id": f"work:{task.task_id}:{task.attempt}"},
        )
