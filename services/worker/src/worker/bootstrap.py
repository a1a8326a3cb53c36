"""The worker's composition root: the only place concrete adapters are chosen.

``connect(settings)`` opens the sidecar and database clients, builds the MongoDB, Dapr and
OpenTelemetry adapters and hands them to ``build``; the app's lifespan is just
``async with connect(settings) as container``. ``build(adapters, settings)`` wires the service
layer and does no I/O; unit tests call it with the in-memory fakes of ``worker_fakes``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

from headwater.edge.auth import ApiTokenProvider
from headwater.edge.blobs import MongoBlobStore
from headwater.edge.configs import PlannerConfigClient
from headwater.edge.service import SystemClock, sidecar_and_database
from headwater.telemetry import Gauge
from worker.adapters.dapr_publishers import DaprEventPublisher, DaprRepublisher, DaprResultPublisher
from worker.adapters.mongo_bodies import MongoRawBodies
from worker.adapters.mongo_dead_letter_gauge import MongoDeadLetterGauge
from worker.adapters.mongo_dead_letters import MongoDeadLetterStore
from worker.adapters.mongo_indexes import ensure_indexes
from worker.adapters.mongo_outbox import MongoOutbox
from worker.adapters.mongo_reads import MongoStorageReads
from worker.adapters.mongo_store import (
    MongoAuditLog,
    MongoDatasetVersions,
    MongoParsingLog,
    MongoRawDocuments,
    MongoRecordStore,
)
from worker.adapters.mongo_streams import MongoSnapshots, MongoStreamHeads
from worker.adapters.otel_metrics import OtelWorkerMetrics
from worker.service_layer.bodies import DocumentBodies
from worker.service_layer.claims import StreamClaims
from worker.service_layer.dead_letters import DeadLetterService
from worker.service_layer.outbox import Outbox
from worker.service_layer.ports import (
    ApiTokens,
    AuditLog,
    BlobReader,
    Clock,
    ConfigSource,
    DatasetVersions,
    DeadLetterStore,
    EventPublisher,
    Metrics,
    OutboxStore,
    ParsingLog,
    RawBodies,
    RawDocuments,
    RecordStore,
    Republisher,
    ResultPublisher,
    Snapshots,
    StorageReads,
    StreamHeads,
)
from worker.service_layer.process import DocumentProcessor
from worker.service_layer.reprocess import ReprocessService
from worker.service_layer.rollback import RollbackService
from worker.service_layer.snapshots import SnapshotSweeper
from worker.service_layer.views import StorageViews
from worker.settings import Settings

__all__ = ["Adapters", "Container", "build", "connect"]


@dataclass(frozen=True)
class Adapters:
    """One implementation of every port (``service_layer/ports.py``)."""

    raw: RawDocuments
    bodies: RawBodies
    heads: StreamHeads
    snapshots: Snapshots
    blobs: BlobReader
    configs: ConfigSource
    records: RecordStore
    parsing_log: ParsingLog
    datasets: DatasetVersions
    audit: AuditLog
    events: EventPublisher
    results: ResultPublisher
    outbox: OutboxStore
    letters: DeadLetterStore
    republisher: Republisher
    reads: StorageReads
    clock: Clock
    metrics: Metrics
    tokens: ApiTokens


@dataclass(frozen=True)
class Container:
    """The wired service layer the entrypoints call (and the API token they check)."""

    processor: DocumentProcessor
    outbox: Outbox
    rollback: RollbackService
    dead_letters: DeadLetterService
    reprocess: ReprocessService
    views: StorageViews
    tokens: ApiTokens
    gauges: tuple[Gauge, ...] = ()  # refreshed in the lifespan (headwater.dead_letters)


def build(adapters: Adapters, settings: Settings) -> Container:
    """Wire the service layer to ``adapters`` (real ones or in-memory fakes); no I/O."""
    a = adapters
    outbox = Outbox(a.outbox, a.events, a.results, a.clock)
    bodies = DocumentBodies(a.blobs, a.bodies)
    processor = DocumentProcessor(
        raw=a.raw,
        heads=a.heads,
        bodies=bodies,
        configs=a.configs,
        records=a.records,
        parsing_log=a.parsing_log,
        datasets=a.datasets,
        audit=a.audit,
        outbox=outbox,
        clock=a.clock,
        metrics=a.metrics,
        claims=StreamClaims(a.heads, a.clock, settings.claim_stale_after_s, settings.stream_wait_s),
        sweeper=SnapshotSweeper(a.records, a.datasets, a.snapshots, outbox.events, 10 * settings.claim_stale_after_s),
        lease_s=settings.claim_stale_after_s,
        batch_rows=settings.batch_rows,
    )
    return Container(
        processor=processor,
        outbox=outbox,
        rollback=RollbackService(a.datasets, a.records, a.heads, a.audit, outbox.events, a.clock),
        dead_letters=DeadLetterService(
            a.letters, a.republisher, a.configs, a.clock, processor, (a.heads, a.raw, bodies)
        ),
        reprocess=ReprocessService(a.raw, a.bodies, a.heads, a.configs, a.republisher, a.audit, a.clock),
        views=StorageViews(a.reads, a.metrics),
        tokens=a.tokens,
    )


@asynccontextmanager
async def connect(settings: Settings) -> AsyncIterator[Container]:
    """The worker on its Dapr sidecar and MongoDB; both clients are closed on exit."""
    async with sidecar_and_database(settings) as (sidecar, db):
        await ensure_indexes(db)
        api_token = settings.api_token.get_secret_value() if settings.api_token else None
        adapters = Adapters(
            raw=MongoRawDocuments(db),
            bodies=MongoRawBodies(db),
            heads=MongoStreamHeads(db),
            snapshots=MongoSnapshots(db),
            blobs=MongoBlobStore(db),
            configs=PlannerConfigClient(sidecar),
            records=MongoRecordStore(db),
            parsing_log=MongoParsingLog(db),
            datasets=MongoDatasetVersions(db),
            audit=MongoAuditLog(db),
            events=DaprEventPublisher(sidecar),
            results=DaprResultPublisher(sidecar),
            outbox=MongoOutbox(db),
            letters=MongoDeadLetterStore(db),
            republisher=DaprRepublisher(sidecar),
            reads=MongoStorageReads(db),
            clock=SystemClock(),
            metrics=OtelWorkerMetrics(),
            tokens=ApiTokenProvider(sidecar, api_token),
        )
        yield replace(build(adapters, settings), gauges=(MongoDeadLetterGauge(db),))
