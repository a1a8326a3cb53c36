"""Dead letters of ``raw-documents``: re-driven, kept with their cause, listed and replayed
(``headwater dlq …``).

A message reaches ``raw-documents.dlq`` when its delivery failed four times — because the
document can never be processed (DROP), or only because the worker or the store was down
meanwhile (a killed worker's deliveries burn their retries in seconds). So a dead letter is
first *re-driven*: processed like a redelivery (``DocumentProcessor.handle``). Processed → kept
as ``recovered``; can never succeed → kept as ``parked`` with its cause until an operator replays
it; still busy or the store still down → not acknowledged (the subscription answers RETRY, and
the dead-letter subscription's own dead-letter topic is itself, so Dapr publishes it there
again instead of dropping it: it stays pending until it can be kept).
"""

from __future__ import annotations

import contextlib
from typing import Any

from pydantic import ValidationError

from headwater.contracts.messages import RawDocument
from worker.domain.dead_letters import DeadLetter, LetterOutcome
from worker.domain.streams import head_id
from worker.service_layer.bodies import DocumentBodies
from worker.service_layer.claims import receipt_of
from worker.service_layer.errors import NotFound
from worker.service_layer.outcomes import Outcome, Processed, Unprocessable
from worker.service_layer.ports import Clock, ConfigSource, DeadLetterStore, RawDocuments, Republisher, StreamHeads
from worker.service_layer.process import DocumentProcessor

__all__ = ["DeadLetterService"]

RECOVERED = "processed when re-driven from the dead-letter topic (its deliveries had failed)"


class DeadLetterService:
    def __init__(
        self,
        store: DeadLetterStore,
        publisher: Republisher,
        configs: ConfigSource,
        clock: Clock,
        processor: DocumentProcessor,
        documents: tuple[StreamHeads, RawDocuments, DocumentBodies],
    ) -> None:
        self._store, self._publisher, self._configs, self._clock = store, publisher, configs, clock
        self._processor = processor
        self._heads, self._raw, self._bodies = documents

    async def receive(self, event: dict[str, Any], topic: str) -> Outcome:
        """Re-drive a dead-lettered CloudEvent and keep it with its cause (keyed by its event id:
        a redelivery is a no-op); ``Busy`` when it must come again later."""
        data = event.get("data") or {}
        try:
            doc = RawDocument.model_validate(data)
        except ValidationError as exc:
            cause = "malformed raw document: " + "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3]
            )
            await self._keep(event, topic, cause, "parked")
            return Unprocessable(None, cause)
        outcome = await self._redrive(doc)
        if isinstance(outcome, Processed):
            await self._keep(event, topic, RECOVERED, "recovered")
        elif isinstance(outcome, Unprocessable):
            await self._keep(event, topic, outcome.error, "parked")
        return outcome

    async def _redrive(self, doc: RawDocument) -> Outcome:
        """Processed like a redelivery, unless its document already failed for good (the main
        delivery answered DROP): then the cause recorded then, without processing it again."""
        content = None if doc.reference is not None else await self._bodies.at_hand(doc, self._clock.now())
        receipt = receipt_of(doc, content)
        head = await self._heads.get(head_id(doc.source_id, receipt.stream))
        if head is not None and head.status == "failed" and head.content_hash == receipt.content_hash:
            error = await self._raw.error(receipt.document_id)
            return Unprocessable(head.occurrence, error or "the document could not be processed")
        return await self._processor.handle(doc)

    async def _keep(self, event: dict[str, Any], topic: str, cause: str, outcome: LetterOutcome) -> None:
        data = event.get("data") or {}
        now = self._clock.now()
        await self._store.add(
            DeadLetter(
                letter_id=str(event.get("id")),
                topic=topic,
                data=data,
                source_id=data.get("source_id"),
                task_id=data.get("task_id"),
                received_at=now,
                replayed_at=now if outcome == "recovered" else None,
                cause=cause,
                outcome=outcome,
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
