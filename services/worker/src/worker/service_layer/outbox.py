"""The outbox: events and task results that could not be published are kept and published later.

Every publication of the worker goes through ``Outbox``: ``events`` / ``results`` (the
``EventPublisher`` / ``ResultPublisher`` the handlers use) publish at once and, when the
sidecar or Redis fails, keep the message in ``outbox`` instead of failing the document — its
records are stored, so it must not stay ``processing`` because an announcement failed. The
closing messages of a document (``document.stored``, its task result) are *staged* before its
stream head is marked processed and published after (``flush``), so a crash between the two
leaves them in the outbox, never lost. ``drain`` publishes what is kept, oldest first: on the
next delivery and every few seconds from the worker's lifespan. Subscribers dedup by CloudEvent
id, which is the event's idempotency key, so a message published twice is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from headwater.contracts.events import EVENT_MODELS, _Event
from headwater.contracts.messages import TaskResult
from worker.domain.outbox import OutboxMessage, result_message_id
from worker.service_layer.ports import Clock, EventPublisher, OutboxStore, ResultPublisher

__all__ = ["Outbox"]

log = structlog.get_logger(__name__)


class _Events:
    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    async def publish(self, event: _Event) -> None:
        await self._outbox.publish(self._outbox.event(event))


class _Results:
    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    async def publish(self, result: TaskResult) -> None:
        await self._outbox.publish(self._outbox.result(result))


class Outbox:
    def __init__(self, store: OutboxStore, events: EventPublisher, results: ResultPublisher, clock: Clock) -> None:
        self._store, self._events, self._results, self._clock = store, events, results, clock
        self.events: EventPublisher = _Events(self)
        self.results: ResultPublisher = _Results(self)
        self.kept = True  # something may be kept (at start: from an earlier process)

    def event(self, event: _Event) -> OutboxMessage:
        return OutboxMessage(event.idempotency_key, "event", event.model_dump(mode="json"), self._clock.now())

    def result(self, result: TaskResult) -> OutboxMessage:
        payload = result.model_dump(mode="json")
        return OutboxMessage(result_message_id(payload), "result", payload, self._clock.now())

    async def publish(self, message: OutboxMessage) -> None:
        """Publish now; keep it when that fails (raises only when keeping fails too)."""
        try:
            await self._send(message)
        except Exception as exc:
            log.warning("publish failed; kept in the outbox", message_id=message.message_id, error=str(exc)[:200])
            await self._store.add([message])
            self.kept = True

    async def stage(self, messages: Sequence[OutboxMessage]) -> None:
        """Keep ``messages`` before the state that promises them is written."""
        await self._store.add(list(messages))

    async def flush(self, messages: Sequence[OutboxMessage]) -> None:
        """Publish staged ``messages`` and forget them; what fails stays kept for ``drain``."""
        for message in messages:
            try:
                await self._send(message)
            except Exception as exc:
                log.warning("publish failed; left in the outbox", message_id=message.message_id, error=str(exc)[:200])
                self.kept = True
                return
            await self._store.remove(message.message_id)

    async def drain(self, limit: int = 200) -> int:
        """Publish kept messages, oldest first, until one fails; how many were published."""
        if not self.kept:
            return 0
        pending = await self._store.pending(limit)
        sent = 0
        for message in pending:
            try:
                await self._send(message)
            except Exception as exc:
                log.warning("outbox not drained", message_id=message.message_id, error=str(exc)[:200])
                return sent
            await self._store.remove(message.message_id)
            sent += 1
        self.kept = len(pending) >= limit
        if sent:
            log.info("outbox drained", published=sent)
        return sent

    async def try_drain(self) -> None:
        """``drain``, logging instead of raising: what calls it goes on whatever the store does."""
        try:
            await self.drain()
        except Exception as exc:
            log.warning("outbox not drained", error=str(exc)[:200])

    async def _send(self, message: OutboxMessage) -> None:
        if message.kind == "event":
            await self._events.publish(_event_of(message))
        else:
            await self._results.publish(TaskResult.model_validate(message.payload))


def _event_of(message: OutboxMessage) -> _Event:
    return EVENT_MODELS[str(message.payload["type"])].model_validate(message.payload)
