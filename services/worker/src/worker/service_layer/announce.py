"""``records.changed``: the keys a dataset version created, updated or deleted, announced as they
are stored; ``document.stored``: a document's records are all stored."""

from __future__ import annotations

from datetime import datetime

from headwater.config import EventsSpec
from headwater.contracts.events import DocumentStored, RecordsChanged
from headwater.contracts.messages import RawDocument
from worker.domain.scd2 import RecordChange
from worker.service_layer.ports import EventPublisher

__all__ = ["ChangeAnnouncer", "stored_event"]


class ChangeAnnouncer:
    """``records.changed`` events of at most ``records_changed_batch`` keys, published as the
    batches are stored, one call each and in order (Dapr's bulk publish does not keep the order,
    and ``last`` must arrive last); one event is held back so the final one can say ``last``."""

    def __init__(
        self, events: EventPublisher, source_id: str, doc_id: str, now: datetime, spec: EventsSpec | None
    ) -> None:
        self._events, self._source, self._doc, self._now = events, source_id, doc_id, now
        self._size = spec.records_changed_batch if spec is not None else 500
        self._enabled = spec is None or spec.enabled
        self._pending: list[RecordChange] = []
        self._held: RecordsChanged | None = None
        self._batch = 0

    async def add(self, changes: list[RecordChange]) -> None:
        if not self._enabled:
            return
        self._pending += changes
        ready: list[RecordsChanged] = []
        while len(self._pending) > self._size:
            ready += self._emit(self._pending[: self._size])
            self._pending = self._pending[self._size :]
        await self._publish(ready)

    async def finish(self) -> None:
        ready = self._emit(self._pending) if self._pending else []
        self._pending = []
        if self._held is not None:
            ready.append(self._held.model_copy(update={"last": True}))
            self._held = None
        await self._publish(ready)

    async def _publish(self, events: list[RecordsChanged]) -> None:
        for event in events:
            await self._events.publish(event)

    def _emit(self, part: list[RecordChange]) -> list[RecordsChanged]:
        """The held event (now ready to go) and hold the event of ``part``."""
        ready = [] if self._held is None else [self._held]
        self._batch += 1
        kinds: dict[str, list[str]] = {"created": [], "updated": [], "deleted": []}
        for change in part:
            kinds[change.kind or "updated"].append(change.natural_key)
        self._held = RecordsChanged(
            idempotency_key=f"records.changed:{self._doc}:{self._batch}",
            source_id=self._source,
            occurred_at=self._now,
            dataset_version=self._doc,
            batch=self._batch,
            last=False,
            created=kinds["created"],
            updated=kinds["updated"],
            deleted=kinds["deleted"],
        )
        return ready


def stored_event(
    doc: RawDocument, occurrence: str, content_hash: str, now: datetime, counts: dict[str, int]
) -> DocumentStored:
    """``document.stored`` of ``occurrence`` (its id, the CloudEvent id, is the same on every run)."""
    return DocumentStored(
        idempotency_key=f"document.stored:{occurrence}",
        source_id=doc.source_id,
        occurred_at=now,
        task_id=doc.task_id,
        document_id=occurrence,
        content_hash=content_hash,
        dataset_version=occurrence,
        rows=counts["rows"],
        rows_valid=counts["rows_valid"],
        rows_rejected=counts["rows_rejected"],
        linkage=doc.linkage,
    )
