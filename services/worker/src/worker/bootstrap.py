"""The worker's composition root: the only place concrete adapters are chosen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headwater.edge.service import SystemClock
from worker.service_layer.dead_letters import DeadLetterService, DeadLetterStore, Republisher
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
from worker.service_layer.process import DocumentProcessor
from worker.service_layer.rollback import RollbackService

__all__ = ["Container", "SystemClock", "build"]


@dataclass
class Container:
    processor: DocumentProcessor
    rollback: RollbackService
    dead_letters: DeadLetterService


def build(
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
    letters: DeadLetterStore,
    republisher: Republisher,
    clock: Any | None = None,
) -> Container:
    clock = clock or SystemClock()
    return Container(
        processor=DocumentProcessor(
            raw=raw,
            blobs=blobs,
            configs=configs,
            records=records,
            parsing_log=parsing_log,
            datasets=datasets,
            audit=audit,
            events=events,
            results=results,
            clock=clock,
        ),
        rollback=RollbackService(datasets, records, audit, events, clock),
        dead_letters=DeadLetterService(letters, republisher, clock, versions=configs),
    )
