"""Processing one raw document: dedup → parse → map → validate → store → announce.

Safe under at-least-once delivery: the content hash decides (one insert into
``raw_documents``); every write uses deterministic ids or conditional updates, so a
redelivered document changes nothing; rows that fail validation go to ``parsing_logs``
and the others go on (partial success).

Error taxonomy (→ Dapr outcome in the entrypoint):
- ``Processed`` with status succeeded / partial / duplicate → SUCCESS;
- ``Unprocessable`` (cannot be parsed at all, unknown config, bad message) → logged,
  ``task.failed`` announced, DROP → dead-letter topic (never retried forever);
- ``Busy`` (another delivery is processing the same content) and any infrastructure
  exception → RETRY (the inbound resiliency policy, then the dead-letter topic).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import structlog

from headwater.contracts.events import DocumentDuplicate, DocumentStored, RecordsChanged, TaskFailed
from headwater.contracts.messages import RawDocument, TaskResult, TaskStatus
from headwater.telemetry import counter
from worker.domain.dedup import content_hash, raw_document_id
from worker.domain.parsers import DocumentParseError
from worker.service_layer.extract import extract_batches
from worker.service_layer.ports import (
    AuditLog,
    BlobReader,
    ConfigSource,
    DatasetVersions,
    EventPublisher,
    ParsingLog,
    RawDocuments,
    RecordStore,
    ResultPublisher,
)
from worker.service_layer.storage import store_records

if TYPE_CHECKING:
    from headwater.config import EventsSpec
    from worker.service_layer.ports import RecordChange

__all__ = ["Busy", "DocumentProcessor", "Outcome", "Processed", "Unprocessable"]

log = structlog.get_logger(__name__)
stored_counter = counter("headwater.worker.documents_stored", "documents stored")
duplicate_counter = counter("headwater.worker.documents_duplicate", "duplicate documents")
failed_counter = counter("headwater.worker.documents_failed", "documents that failed")


@dataclass(frozen=True)
class Processed:
    status: TaskStatus
    document_id: str
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Unprocessable:
    document_id: str | None
    error: str


@dataclass(frozen=True)
class Busy:
    document_id: str


Outcome = Processed | Unprocessable | Busy


class DocumentProcessor:
    def __init__(
        self,
        *,
        raw: RawDocuments,
        blobs: BlobReader,
        configs: ConfigSource,
        records: RecordStore,
        parsing_log: ParsingLog,
        datasets: DatasetVersions,
        audit: AuditLog,
        events: EventPublisher,
        results: ResultPublisher,
        clock: Any,
        stale_after_s: float = 300.0,
    ) -> None:
        self._raw, self._blobs, self._configs = raw, blobs, configs
        self._records, self._log, self._datasets, self._audit = records, parsing_log, datasets, audit
        self._events, self._results, self._clock = events, results, clock
        self._stale = stale_after_s

    async def handle(self, doc: RawDocument) -> Outcome:
        # a claim-checked body is content-addressed (its key is its SHA-256, checked when read),
        # so a duplicate is recognised without fetching it
        content = None if doc.reference is not None else await self._content(doc)
        digest = doc.reference.sha256 if doc.reference is not None else content_hash(content or b"")
        size = doc.reference.size_bytes if doc.reference is not None else len(content or b"")
        doc_id = raw_document_id(doc.source_id, digest)
        now: datetime = self._clock.now()
        meta = {
            "source_id": doc.source_id,
            "task_id": doc.task_id,
            "run_id": doc.run_id,
            "document_key": doc.document_key,
            "content_hash": digest,
            "content_type": doc.content_type,
            "size_bytes": size,
            "linkage": doc.linkage,
            "fetched_at": doc.fetched_at,
            "config_version": doc.config_version,
        }
        claim = await self._raw.claim(doc_id, meta, now, self._stale)
        if claim.state == "in_progress":
            return Busy(doc_id)
        if claim.state == "processed":
            return await self._duplicate(doc, doc_id, digest, now)
        if content is None:
            content = await self._content(doc)
        await self._audit_step(doc, doc_id, "dedup", "new", {"size_bytes": size})
        try:
            config = await self._configs.get(doc.source_id, doc.config_version)
        except LookupError as exc:
            return await self._fail(doc, doc_id, "parse", f"no config: {exc}")
        try:
            return await self._store(doc, doc_id, digest, config, content, now)
        except DocumentParseError as exc:
            return await self._fail(doc, doc_id, "parse", str(exc))

    async def _content(self, doc: RawDocument) -> bytes:
        if doc.reference is not None:
            return await self._blobs.get(doc.reference)
        if doc.content is None:
            raise ValueError("raw document has neither content nor reference")
        return base64.b64decode(doc.content) if doc.encoding == "base64" else doc.content.encode("utf-8")

    async def _store(
        self, doc: RawDocument, doc_id: str, digest: str, config: Any, content: bytes, now: datetime
    ) -> Processed:
        """Batch by batch: log rejections, upsert records, remember the changes, announce them.
        A parse error in a later batch leaves earlier batches stored; the redelivery or replay
        of the document re-applies them as no-ops (deterministic ids, content hashes)."""
        counts = {
            "rows": 0,
            "rows_valid": 0,
            "rows_rejected": 0,
            "records_created": 0,
            "records_updated": 0,
            "records_unchanged": 0,
        }
        announcer = _ChangeAnnouncer(self._events, doc.source_id, doc_id, now, config.events)
        for number, batch in enumerate(
            extract_batches(content, config, doc_id=doc_id, source_id=doc.source_id, task_id=doc.task_id, now=now),
            start=1,
        ):
            if batch.rejections:
                await self._log.write(batch.rejections)
            changes = await store_records(self._records, config, doc.source_id, doc_id, batch.records, now)
            await self._datasets.add_changes(doc_id, number, changes.changes)
            for key, value in {**batch.counts(), **changes.counts()}.items():
                counts[key] += value
            await announcer.add(changes.changes)
        await announcer.finish()
        await self._datasets.record(
            {
                "_id": doc_id,
                "source_id": doc.source_id,
                "task_id": doc.task_id,
                "created_at": now,
                "rolled_back_at": None,
                "counts": counts,
            }
        )
        await self._audit_step(doc, doc_id, "store", "done", counts)
        status = TaskStatus.PARTIAL if counts["rows_rejected"] else TaskStatus.SUCCEEDED
        await self._raw.finish(doc_id, "processed", counts)
        if config.events is None or config.events.enabled:
            await self._events.publish(
                DocumentStored(
                    idempotency_key=f"document.stored:{doc_id}",
                    source_id=doc.source_id,
                    occurred_at=now,
                    task_id=doc.task_id,
                    document_id=doc_id,
                    content_hash=digest,
                    dataset_version=doc_id,
                    rows=counts["rows"],
                    rows_valid=counts["rows_valid"],
                    rows_rejected=counts["rows_rejected"],
                    linkage=doc.linkage,
                )
            )
        await self._report(doc, status, counts=counts)
        stored_counter.add(1, {"source_id": doc.source_id})
        log.info("document stored", source_id=doc.source_id, document_id=doc_id, **counts)
        return Processed(status, doc_id, counts)

    async def _duplicate(self, doc: RawDocument, doc_id: str, digest: str, now: datetime) -> Processed:
        duplicate_counter.add(1, {"source_id": doc.source_id})
        await self._audit_step(doc, doc_id, "dedup", "duplicate", {})
        await self._events.publish(
            DocumentDuplicate(
                idempotency_key=f"document.duplicate:{doc_id}:{doc.task_id}:{doc.document_key}",
                source_id=doc.source_id,
                occurred_at=now,
                task_id=doc.task_id,
                document_id=doc_id,
                content_hash=digest,
            )
        )
        await self._report(doc, TaskStatus.DUPLICATE, counts={"duplicates": 1})
        log.info("duplicate document acknowledged", source_id=doc.source_id, document_id=doc_id)
        return Processed(TaskStatus.DUPLICATE, doc_id, {"duplicates": 1})

    async def _fail(
        self, doc: RawDocument, doc_id: str, stage: Literal["fetch", "parse", "store"], error: str
    ) -> Unprocessable:
        now = self._clock.now()
        failed_counter.add(1, {"source_id": doc.source_id})
        await self._log.write(
            [
                {
                    "_id": f"{doc_id}:0:document",
                    "source_id": doc.source_id,
                    "task_id": doc.task_id,
                    "document_id": doc_id,
                    "row": 0,
                    "field": None,
                    "reason": error,
                    "excerpt": None,
                    "logged_at": now,
                }
            ]
        )
        await self._raw.finish(doc_id, "failed", {}, error)
        await self._audit_step(doc, doc_id, stage, "failed", {}, error)
        await self._events.publish(
            TaskFailed(
                idempotency_key=f"task.failed:{doc_id}",
                source_id=doc.source_id,
                occurred_at=now,
                task_id=doc.task_id,
                document_id=doc_id,
                stage=stage,
                error=error,
            )
        )
        await self._report(doc, TaskStatus.FAILED, error=error)
        log.error(
            "document could not be processed; dead-lettered",
            source_id=doc.source_id,
            document_id=doc_id,
            stage=stage,
            error=error,
        )
        return Unprocessable(doc_id, error)

    async def _report(
        self, doc: RawDocument, status: TaskStatus, counts: dict[str, int] | None = None, error: str | None = None
    ) -> None:
        """The document's outcome back to the planner (``task-results``)."""
        await self._results.publish(
            TaskResult(
                source_id=doc.source_id,
                task_id=doc.task_id,
                run_id=doc.run_id,
                reporter="worker",
                status=status,
                document_key=doc.document_key,
                counts=counts or {},
                error=error,
            )
        )

    async def _audit_step(
        self, doc: RawDocument, doc_id: str, step: str, outcome: str, counts: dict[str, int], error: str | None = None
    ) -> None:
        await self._audit.write(
            {
                "_id": f"{doc_id}:{step}:{outcome}:{doc.task_id}:{doc.document_key}",
                "at": self._clock.now(),
                "source_id": doc.source_id,
                "task_id": doc.task_id,
                "document_id": doc_id,
                "step": step,
                "outcome": outcome,
                "counts": counts,
                "error": error,
            }
        )


class _ChangeAnnouncer:
    """``records.changed`` events of at most ``records_changed_batch`` keys, published as the
    batches are stored; one event is held back so the final one can say ``last``."""

    def __init__(
        self, events: EventPublisher, source_id: str, doc_id: str, now: datetime, spec: EventsSpec | None
    ) -> None:
        self._events, self._source, self._doc, self._now = events, source_id, doc_id, now
        self._size = spec.records_changed_batch if spec is not None else 500
        self._enabled = spec is None or spec.enabled
        self._pending: list[tuple[str, str]] = []
        self._held: RecordsChanged | None = None
        self._batch = 0

    async def add(self, changes: list[RecordChange]) -> None:
        if not self._enabled:
            return
        self._pending += [("c" if c.previous_version is None else "u", c.natural_key) for c in changes]
        while len(self._pending) > self._size:
            await self._emit(self._pending[: self._size])
            self._pending = self._pending[self._size :]

    async def finish(self) -> None:
        if self._pending:
            await self._emit(self._pending)
            self._pending = []
        if self._held is not None:
            await self._events.publish(self._held.model_copy(update={"last": True}))
            self._held = None

    async def _emit(self, part: list[tuple[str, str]]) -> None:
        if self._held is not None:
            await self._events.publish(self._held)
        self._batch += 1
        self._held = RecordsChanged(
            idempotency_key=f"records.changed:{self._doc}:{self._batch}",
            source_id=self._source,
            occurred_at=self._now,
            dataset_version=self._doc,
            batch=self._batch,
            last=False,
            created=[k for t, k in part if t == "c"],
            updated=[k for t, k in part if t == "u"],
        )
