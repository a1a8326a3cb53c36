"""Dead letters of ``raw-documents``: kept, listed and replayed (``headwater dlq …``)."""

from __future__ import annotations

import contextlib
from typing import Any

from worker.domain.dead_letters import DeadLetter
from worker.service_layer.errors import NotFound
from worker.service_layer.ports import Clock, ConfigSource, DeadLetterStore, Republisher

__all__ = ["DeadLetterService"]


class DeadLetterService:
    def __init__(self, store: DeadLetterStore, publisher: Republisher, configs: ConfigSource, clock: Clock) -> None:
        self._store, self._publisher, self._configs, self._clock = store, publisher, configs, clock

    async def receive(self, event: dict[str, Any], topic: str) -> None:
        """Keep a dead-lettered CloudEvent (keyed by its event id: a redelivery is a no-op)."""
        data = event.get("data") or {}
        await self._store.add(
            DeadLetter(
                letter_id=str(event.get("id")),
                topic=topic,
                data=data,
                source_id=data.get("source_id"),
                task_id=data.get("task_id"),
                received_at=self._clock.now(),
            )
        )

    async def list(self, include_replayed: bool = False, limit: int = 100) -> list[DeadLetter]:
        return await self._store.list(include_replayed, limit)

    async def replay(self, letter_id: str) -> None:
        """Publish the letter again on its original topic, with the source's current config
        version (an operator replays after fixing the config); ``NotFound`` if unknown or
        already replayed."""
        letter = await self._store.get(letter_id)
        if letter is None or letter.replayed_at:
            raise _not_found(letter_id)
        data = dict(letter.data)
        if data.get("source_id") and "config_version" in data:
            # a source that is gone is replayed as it was (it will fail and come back here)
            with contextlib.suppress(LookupError):
                data["config_version"] = await self._configs.latest_version(data["source_id"])
        await self._publisher.republish(letter.topic, data)
        if not await self._store.mark_replayed(letter_id, self._clock.now()):
            raise _not_found(letter_id)


def _not_found(letter_id: str) -> NotFound:
    return NotFound(f"dead letter {letter_id!r} not found or already replayed")
