"""Processing one raw document: dedup → parse → map → validate → store → announce.

Safe under at-least-once delivery: the document is judged against the latest document of its
stream (``claims``, ``domain/streams``): the same content again is a duplicate, an older copy
arriving late is superseded, anything else is a new occurrence with its own dataset version.
Every write uses deterministic ids or conditional updates, so a redelivered document changes
nothing; rows that fail validation go to ``parsing_logs`` and the others go on (partial
success). In snapshot mode a complete snapshot also closes the keys it no longer holds
(``snapshots``). The body of a new occurrence is kept (``bodies``) before it is parsed, so a
document can be reprocessed later (``reprocess``: the same path, judged as a rerun). The
outcomes and how each reaches Dapr: ``errors``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import structlog

from headwater.config import SourceConfig
from headwater.contracts.events import TaskFailed
from headwater.contracts.messages import RawDocument, TaskStatus
from worker.domain.documents import DatasetVersion, Receipt, Rejection
from worker.domain.parsers import DocumentParseError
from worker.domain.snapshots import SnapshotPart, SnapshotScope, snapshot_scope
from worker.domain.streams import UPLOAD_STREAM, head_id
from worker.service_layer.announce import ChangeAnnouncer, stored_event
from worker.service_layer.batches import BatchTarget, ChangeLog, StoredBatch, store_batches
from worker.service_layer.bodies import DocumentBodies
from worker.service_layer.claims import ClaimLost, Lease, StreamClaims, receipt_of
from worker.service_layer.errors import BodyExpired
from worker.service_layer.extract import BATCH_ROWS, extract_batches
from worker.service_layer.measures import measure
from worker.service_layer.outbox import Outbox
from worker.service_layer.outcomes import Busy, Outcome, Processed, Unprocessable
from worker.service_layer.ports import (
    AuditLog,
    Clock,
    ConfigSource,
    DatasetVersions,
    Metrics,
    ParsingLog,
    RawDocuments,
    RecordStore,
    StreamHeads,
)
from worker.service_layer.skipped import announce_expired, announce_skipped
from worker.service_layer.snapshots import SnapshotKeys, SnapshotSweeper, is_snapshot, single_request
from worker.service_layer.trail import DocumentTrail

__all__ = ["DocumentProcessor"]

log = structlog.get_logger(__name__)

RECORDS = ("created", "updated", "deleted", "unchanged", "backdated")
COUNTS = ("rows", "rows_valid", "rows_rejected", *(f"records_{k}" for k in RECORDS))


@dataclass(frozen=True)
class _Job:
    """One delivery being processed: the message, its receipt, its occurrence (dataset version)."""

    doc: RawDocument
    receipt: Receipt
    occurrence: str
    trail: DocumentTrail
    now: datetime


class DocumentProcessor:
    """Handles each ``raw-documents`` message; its ports are passed in by ``bootstrap``."""

    def __init__(
        self,
        *,
        raw: RawDocuments,
        heads: StreamHeads,
        bodies: DocumentBodies,
        configs: ConfigSource,
        records: RecordStore,
        parsing_log: ParsingLog,
        datasets: DatasetVersions,
        audit: AuditLog,
        outbox: Outbox,
        clock: Clock,
        metrics: Metrics,
        claims: StreamClaims,
        sweeper: SnapshotSweeper,
        lease_s: float,
        batch_rows: int = BATCH_ROWS,
    ) -> None:
        self._raw, self._heads, self._bodies, self._configs = raw, heads, bodies, configs
        self._records, self._log, self._datasets, self._audit = records, parsing_log, datasets, audit
        self._outbox, self._events, self._results = outbox, outbox.events, outbox.results
        self._clock, self._metrics, self._claims, self._sweeper = clock, metrics, claims, sweeper
        self._lease_s, self._batch_rows = lease_s, batch_rows

    async def handle(self, doc: RawDocument) -> Outcome:
        """Process one delivery. A claim this delivery makes is leased (``claims.Lease``); a
        document taken over from a dead delivery is resumed: every step below writes under
        deterministic ids or re-derives what the first run wrote (the change log), so a crash
        between any two steps converges to the end state of an uninterrupted run."""
        await self._outbox.try_drain()
        try:
            content = await self._bodies.at_hand(doc, self._clock.now())
        except BodyExpired as exc:
            document_id = receipt_of(doc, None).document_id
            trail = DocumentTrail(doc, document_id, self._audit, self._results, self._clock)
            return await announce_expired(self._events, trail, doc, document_id, self._clock.now(), str(exc))
        receipt = receipt_of(doc, content)
        claim = await self._claims.claim(receipt)
        if claim.state == "in_progress":
            return Busy(receipt.document_id)
        occurrence = receipt.document_id if claim.state == "superseded" else claim.occurrence
        trail = DocumentTrail(doc, occurrence, self._audit, self._results, self._clock)
        job = _Job(doc, receipt, occurrence, trail, self._clock.now())
        if claim.state != "new":
            return await self._skipped(job, claim.state == "superseded")
        hid = head_id(doc.source_id, receipt.stream)
        try:
            async with Lease(self._heads, self._clock, hid, claim, self._lease_s) as lease:
                return await self._claimed(job, content, lease)
        except ClaimLost:
            log.warning("claim taken over by another delivery", document_id=occurrence)
            return Busy(receipt.document_id)

    async def _claimed(self, job: _Job, content: bytes | None, lease: Lease) -> Outcome:
        doc, receipt = job.doc, job.receipt
        await self._raw.begin(receipt, job.occurrence, job.now)
        if content is None:
            content = await self._bodies.claim_checked(doc)
        await job.trail.step(job.trail.first_step, "new", {"size_bytes": receipt.size_bytes})
        try:
            config = await self._configs.get(doc.source_id, doc.config_version)
        except LookupError as exc:
            return await self._fail(job, "parse", f"no config: {exc}")
        await self._bodies.keep(doc, receipt.content_hash, content, config, job.now)
        try:
            return await self._store(job, config, content, lease)
        except DocumentParseError as exc:
            return await self._fail(job, "parse", str(exc))

    async def _store(self, job: _Job, config: SourceConfig, content: bytes, lease: Lease) -> Processed:
        """Store the document's records, then record it as a dataset version and announce it:
        its closing messages are staged in the outbox before its head says ``processed``."""
        doc, receipt = job.doc, job.receipt
        counts = await self._store_batches(job, config, content, lease)
        stream = head_id(doc.source_id, receipt.stream)
        await self._datasets.record(
            DatasetVersion(job.occurrence, doc.source_id, doc.task_id, job.now, counts, stream_id=stream)
        )
        await job.trail.step("store", "done", counts)
        status = TaskStatus.PARTIAL if counts["rows_rejected"] else TaskStatus.SUCCEEDED
        closing = []
        if config.events is None or config.events.enabled:
            closing.append(self._outbox.event(stored_event(doc, job.occurrence, receipt.content_hash, job.now, counts)))
        result = job.trail.result(status, counts=counts)
        if result is not None:
            closing.append(self._outbox.result(result))
        lease.check()
        await self._outbox.stage(closing)
        await self._heads.finish(stream, job.occurrence, "processed")  # whoever sees "processed" can rely on it
        await self._raw.finish(receipt.document_id, "processed", counts)
        await self._outbox.flush(closing)
        measure(self._metrics, "stored", doc.source_id, job.now, self._clock.now(), counts)
        log.info("document stored", source_id=doc.source_id, document_id=job.occurrence, **counts)
        return Processed(status, job.occurrence, counts)

    async def _store_batches(self, job: _Job, config: SourceConfig, content: bytes, lease: Lease) -> dict[str, int]:
        """Batch by batch (``batches``): log rejections, log the changes, upsert the records,
        announce them. A parse error in a later batch leaves earlier batches stored; the
        redelivery or replay of the document re-applies them as no-ops (deterministic ids,
        content hashes) and takes their logged changes back (``storage.store_records``)."""
        doc, occurrence, now = job.doc, job.occurrence, job.now
        counts = dict.fromkeys(COUNTS, 0)
        announcer = ChangeAnnouncer(self._events, doc.source_id, occurrence, now, config.events)
        keys = SnapshotKeys(self._scope(doc, job.receipt, config), occurrence, self._sweeper.snapshots)

        async def done(stored: StoredBatch) -> None:
            job.trail.stored(config.ingestion.incremental, (record for _, record, _ in stored.extraction.records))
            for key, value in {**stored.extraction.counts(), **stored.result.counts()}.items():
                counts[key] += value
            await announcer.add(stored.result.changes)
            if is_snapshot(config):
                await keys.add(stored.number, stored.extraction)

        batches = extract_batches(
            content,
            config,
            doc_id=occurrence,
            source_id=doc.source_id,
            task_id=doc.task_id,
            now=now,
            batch_rows=self._batch_rows,
        )
        target = BatchTarget(
            self._records,
            self._log,
            self._datasets_log(occurrence),
            config,
            doc.source_id,
            occurrence,
            now,
            doc.fetched_at,
        )
        number = await store_batches(batches, target, done, lease.check)
        if is_snapshot(config):
            counts["records_deleted"] += await self._snapshot(job, config, keys, number + 1, announcer)
        await announcer.finish()
        return counts

    def _datasets_log(self, occurrence: str) -> ChangeLog:
        return functools.partial(self._datasets.add_changes, occurrence)

    def _scope(self, doc: RawDocument, receipt: Receipt, config: SourceConfig) -> SnapshotScope:
        return snapshot_scope(
            doc.task_id,
            doc.run_id,
            uploaded=receipt.stream == UPLOAD_STREAM,
            single_request=single_request(config),
            documents_in_task=doc.documents_in_task,
            snapshot_complete=doc.snapshot_complete,
        )

    async def _snapshot(
        self, job: _Job, config: SourceConfig, keys: SnapshotKeys, first_batch: int, announcer: ChangeAnnouncer
    ) -> int:
        """A single-document snapshot sweeps into this document's dataset version; a part of a
        larger one seals its keys and sweeps the snapshot (its own dataset version) when last."""
        doc = job.doc
        if keys.scope.single:
            if not keys.complete:
                return 0
            return await self._sweeper.sweep(
                config, job.occurrence, keys.seen, job.now, doc.fetched_at, first_batch, announcer
            )
        await keys.seal()
        part = SnapshotPart(
            doc.source_id, keys.scope.snapshot_id, doc.document_key, job.occurrence, doc.fetched_at, keys.scope.end
        )
        swept = await self._sweeper.after_part(config, part, doc.task_id, job.now)
        if swept is not None:
            await job.trail.step("snapshot", "swept", {"records_deleted": swept})
        return 0

    async def _skipped(self, job: _Job, superseded: bool) -> Processed:
        """A duplicate of the stream's latest document, or an older one arriving late."""
        doc = job.doc
        if not superseded and not doc.reprocess:  # a reprocess redelivered: no duplicate of a fetch
            await self._raw.count_duplicate(job.receipt.document_id)
            await self._snapshot_part(job)
        measure(self._metrics, "duplicate", doc.source_id, job.now, self._clock.now())
        return await announce_skipped(self._events, job.trail, doc, job.receipt, job.occurrence, job.now, superseded)

    async def _snapshot_part(self, job: _Job) -> None:
        """A duplicate is still a document of its snapshot (its keys are its stream's latest)."""
        doc = job.doc
        try:
            config = await self._configs.get(doc.source_id, doc.config_version)
        except LookupError:
            return
        scope = self._scope(doc, job.receipt, config)
        if is_snapshot(config) and not scope.single:
            part = SnapshotPart(
                doc.source_id, scope.snapshot_id, doc.document_key, job.occurrence, doc.fetched_at, scope.end
            )
            swept = await self._sweeper.after_part(config, part, doc.task_id, job.now)
            if swept is not None:
                await job.trail.step("snapshot", "swept", {"records_deleted": swept})

    async def _fail(self, job: _Job, stage: Literal["fetch", "parse", "store"], error: str) -> Unprocessable:
        doc, occurrence, now = job.doc, job.occurrence, self._clock.now()
        measure(self._metrics, "failed", doc.source_id, job.now, now)
        await self._log.write([Rejection(occurrence, doc.source_id, doc.task_id, 0, None, error, None, now)])
        await self._raw.finish(job.receipt.document_id, "failed", {}, error)
        await self._heads.finish(head_id(doc.source_id, job.receipt.stream), occurrence, "failed")
        await job.trail.step(stage, "failed", {}, error)
        await self._events.publish(
            TaskFailed(
                idempotency_key=f"task.failed:{occurrence}",
                source_id=doc.source_id,
                occurred_at=now,
                task_id=doc.task_id,
                document_id=occurrence,
                stage=stage,
                error=error,
            )
        )
        await job.trail.report(TaskStatus.FAILED, error=error)
        log.error(
            "document could not be processed; dead-lettered",
            source_id=doc.source_id,
            document_id=occurrence,
            stage=stage,
            error=error,
        )
        return Unprocessable(occurrence, error)
