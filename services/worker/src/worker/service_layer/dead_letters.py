"""Dead letters of ``raw-documents``: kept, listed and replayed (``headwater dlq …``)."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any, Protocol

__all__ = ["DeadLetterService", "DeadLetterStore", "LatestVersions", "Republisher"]


class DeadLetterStore(Protocol):
    async def add(self, letter: dict[str, Any]) -> None: ...

    async def list(self, include_replayed: bool, limit: int) -> list[dict[str, Any]]: ...

    async def get(self, letter_id: str) -> dict[str, Any] | None: ...

    async def mark_replayed(self, letter_id: str, at: datetime) -> bool: ...


class Republisher(Protocol):
    async def republish(self, topic: str, data: dict[str, Any]) -> None: ...


class LatestVersions(Protocol):
    async def latest_version(self, source_id: str) -> int: ...


class DeadLetterService:
    def __init__(
        self, store: DeadLetterStore, publisher: Republisher, clock: Any, versions: LatestVersions | None = None
    ) -> None:
        self._store, self._publisher, self._clock, self._versions = store, publisher, clock, versions

    async def receive(self, event: dict[str, Any], topic: str) -> None:
        """Keep a dead-lettered CloudEvent (``_id`` = its event id: a redelivery is a no-op)."""
        data = event.get("data") or {}
        await self._store.add(
            {
                "_id": str(event.get("id")),
                "topic": topic,
                "data": data,
                "source_id": data.get("source_id"),
                "task_id": data.get("task_id"),
                "received_at": self._clock.now(),
                "replayed_at": None,
            }
        )

    async def list(self, include_replayed: bool = False, limit: int = 100) -> list[dict[str, Any]]:
        return await self._store.list(include_replayed, limit)

    async def replay(self, letter_id: str) -> bool:
        """Publish the letter again on its original topic, with the source's current config
        version (an operator replays after fixing the config); False if unknown or replayed."""
        letter = await self._store.get(letter_id)
        if letter is None or letter.get("replayed_at"):
            return False
        data = dict(letter["data"])
        if self._versions is not None and data.get("source_id") and "config_version" in data:
            # a source that is gone is replayed as it was (it will fail and come back here)
            with contextlib.suppress(LookupError):
                data["config_version"] = await self._versions.latest_version(data["source_id"])
        await self._publisher.republish(letter["topic"], data)
        return await self._store.mark_replayed(letter_id, self._clock.now())
