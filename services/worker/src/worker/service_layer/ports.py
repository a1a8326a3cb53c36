"""The worker's ports: every interface the service layer needs, in one place. Adapters: MongoDB
(``adapters/mongo_*``), the Dapr sidecar (``adapters/dapr_publishers``, ``headwater.edge``) and
OpenTelemetry (``adapters/otel_metrics``), chosen in ``bootstrap``; in-memory fakes with the same
behaviour in ``tests/unit/worker/worker_fakes.py``. Ports take and return domain objects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Protocol

from headwater.config import SourceConfig
from headwater.contracts.events import _Event
from headwater.contracts.messages import ContentReference, TaskResult
from worker.domain.audit import AuditEntry, AuditReprocess, AuditRollback, AuditStep
from worker.domain.dead_letters import DeadLetter
from worker.domain.documents import DatasetVersion, Receipt, Rejection
from worker.domain.history import Retime
from worker.domain.outbox import OutboxMessage
from worker.domain.scd2 import CurrentMove, RecordChange, RecordVersion
from worker.domain.snapshots import SnapshotPart, SnapshotState
from worker.domain.streams import HeadStatus, StreamHead
from worker.domain.summary import DocumentTally

__all__ = [
    "ApiTokens",
    "AuditLog",
    "BlobReader",
    "Clock",
    "ConfigSource",
    "DatasetVersions",
    "DeadLetterStore",
    "EventPublisher",
    "Metrics",
    "OutboxStore",
    "ParsingLog",
    "RawBodies",
    "RawDocuments",
    "RecordStore",
    "Republisher",
    "ResultPublisher",
    "Snapshots",
    "StorageReads",
    "StreamHeads",
]


class Clock(Protocol):
    """The current time, timezone-aware."""

    def now(self) -> datetime: ...


class Metrics(Protocol):
    """Counts and durations of what the worker did, by name (``headwater.metric_names``)."""

    def count(self, name: str, amount: int, **attributes: str) -> None: ...

    def observe(self, name: str, seconds: float, **attributes: str) -> None: ...

    def snapshot(self) -> dict[str, int]:
        """Totals per counter name of every ``headwater.*`` counter this process keeps."""


class ApiTokens(Protocol):
    """The operator API token the HTTP API checks (settings, else the Dapr secret store)."""

    async def token(self) -> str | None: ...


class RawDocuments(Protocol):
    """``raw_documents``, keyed ``<source>:<sha256>``: each content received, the state of its
    latest occurrence and how often it came again as a duplicate."""

    async def begin(self, receipt: Receipt, occurrence: str, now: datetime) -> None:
        """Keep the receipt (first sighting) and mark ``occurrence`` of it processing."""
        ...

    async def count_duplicate(self, document_id: str) -> None: ...

    async def finish(self, document_id: str, status: str, counts: dict[str, int], error: str | None = None) -> None: ...

    async def error(self, document_id: str) -> str | None: ...  # why its latest occurrence failed

    def receipts(self, source_id: str, document_id: str | None, since: datetime | None) -> AsyncIterator[Receipt]:
        """The first-sighting receipts of the source's contents, oldest fetch first: one
        (``document_id``), or those fetched at or after ``since``, or all."""
        ...


class RawBodies(Protocol):
    """``raw_bodies``, keyed ``<source>:<sha256>:<n>``: the worker's own copy of every body it
    processed, compressed, in chunks of at most 4 MiB, kept until its ``expires_at`` (None:
    forever; a TTL index removes it after)."""

    async def keep(self, source_id: str, content_hash: str, content: bytes, expires_at: datetime | None) -> bool:
        """Store the body once per source (True); a body kept before is not written again, only
        its expiry moves to ``expires_at`` (False)."""
        ...

    async def read(self, source_id: str, content_hash: str, now: datetime) -> bytes | None:
        """The body as received; None when it was never kept or has expired. Raises when a
        kept body is corrupt."""
        ...

    async def kept(self, source_id: str, content_hash: str, now: datetime) -> bool:
        """Whether the body is kept and not expired (without reading it)."""
        ...


class StreamHeads(Protocol):
    """``stream_heads``, keyed ``<source>:<stream>``: the latest document of each stream, what
    dedup decides on (``domain/streams``). Every write is conditional on ``rev``."""

    async def get(self, head_id: str) -> StreamHead | None: ...

    async def put(self, head: StreamHead, expected_rev: int | None) -> bool:
        """Write ``head`` while the stored one is still at ``expected_rev`` (None: while there is
        none); False when another delivery wrote first."""
        ...

    async def finish(self, head_id: str, occurrence: str, status: HeadStatus) -> None:
        """Mark the head ``status`` if it is still ``occurrence``."""
        ...

    async def renew(self, head_id: str, occurrence: str, owner: str, at: datetime) -> bool:
        """``claimed_at`` = ``at`` while ``owner`` holds ``occurrence`` (a lease; old ``at``: released)."""
        ...

    async def rolled_back(self, head_id: str, occurrence: str) -> bool:
        """The head's occurrence was rolled back: its content no longer counts as applied."""
        ...


class BlobReader(Protocol):
    """Claim-checked bodies (``headwater.edge.blobs``); raises when missing or corrupt."""

    async def get(self, ref: ContentReference) -> bytes: ...


class ConfigSource(Protocol):
    """Source configs from the planner (by id and version; raises LookupError when unknown)."""

    async def get(self, source_id: str, version: int) -> SourceConfig: ...

    async def latest_version(self, source_id: str) -> int: ...


class RecordStore(Protocol):
    """``records`` (each key's current version or tombstone) + ``record_versions`` (closed
    versions): together the SCD-2 history (``domain/scd2``, ``domain/history``)."""

    async def current(self, source_id: str, keys: list[str]) -> dict[str, RecordVersion]:
        """The current documents of ``keys`` (tombstones included)."""
        ...

    async def archive(self, versions: list[RecordVersion]) -> None:
        """Keep closed versions (deterministic ids: a repeat is a no-op)."""
        ...

    async def set_current(self, moves: list[CurrentMove]) -> int:
        """Apply each move whose condition holds; how many did."""
        ...

    async def get_version(self, source_id: str, natural_key: str, version: int) -> RecordVersion | None: ...

    async def history(self, source_id: str, natural_key: str) -> list[RecordVersion]:
        """Every version of a key: the closed ones and the current document (any order)."""
        ...

    async def take_number(self, source_id: str, natural_key: str, expected_seq: int) -> bool:
        """Hand out version number ``expected_seq + 1`` for the history (a late version) while the
        current document's ``seq`` is still ``expected_seq``."""
        ...

    async def retime(self, source_id: str, retimes: list[Retime]) -> None:
        """Move validity bounds, each only while it still has its old value."""
        ...

    def live_keys(self, source_id: str) -> AsyncIterator[str]:
        """The keys whose current document is a live version (not a tombstone)."""
        ...


class Snapshots(Protocol):
    """``snapshots`` (one per snapshot of several documents: which documents arrived, how many
    to expect, whether the fetch was complete, whether it was swept) and ``snapshot_keys`` (the
    natural keys each occurrence held, in numbered batches, sealed once complete)."""

    async def add_part(self, part: SnapshotPart, now: datetime) -> SnapshotState:
        """Record that a document of the snapshot arrived; the snapshot as recorded afterwards."""
        ...

    async def claim_sweep(self, snapshot_id: str, now: datetime, stale_after_s: float) -> bool: ...

    async def swept(self, snapshot_id: str, at: datetime) -> None: ...

    async def write_keys(self, occurrence: str, batch: int, keys: list[str]) -> None: ...

    async def seal_keys(self, occurrence: str, batches: int, complete: bool) -> None: ...

    async def read_keys(self, occurrence: str) -> set[str] | None:
        """The keys of a sealed, complete key set; None when not sealed or not complete."""
        ...


class ParsingLog(Protocol):
    """``parsing_logs``: rejected rows and unprocessable documents (a repeated key is a no-op)."""

    async def write(self, entries: list[Rejection]) -> None: ...


class DatasetVersions(Protocol):
    """``dataset_versions`` (one per processed document) and ``dataset_changes`` (its changed
    records, in numbered batches, so a repeat is a no-op)."""

    async def record(self, version: DatasetVersion) -> None: ...

    async def add_changes(self, version_id: str, batch: int, changes: list[RecordChange]) -> list[RecordChange]:
        """Log a batch once; what the log holds for it (a resumed document gets its first run's)."""
        ...

    def changes(self, version_id: str) -> AsyncIterator[RecordChange]: ...

    async def get(self, version_id: str) -> DatasetVersion | None: ...

    async def mark_rolled_back(self, version_id: str, at: datetime) -> bool: ...


class AuditLog(Protocol):
    """``audit``: written once per key (see ``domain/audit``)."""

    async def write(self, entry: AuditStep | AuditRollback | AuditReprocess) -> None: ...


class EventPublisher(Protocol):
    """Domain events on ``ingestion-events`` (CloudEvent id = the idempotency key)."""

    async def publish(self, event: _Event) -> None: ...


class OutboxStore(Protocol):
    """``outbox``, keyed by message id: messages kept until they are published (``outbox``)."""

    async def add(self, messages: list[OutboxMessage]) -> None:
        """Keep ``messages`` (one already kept under its id stays as it is)."""
        ...

    async def pending(self, limit: int) -> list[OutboxMessage]: ...  # oldest first

    async def remove(self, message_id: str) -> None: ...


class ResultPublisher(Protocol):
    """Task results on ``task-results`` (back to the planner)."""

    async def publish(self, result: TaskResult) -> None: ...


class DeadLetterStore(Protocol):
    """``dead_letters``, keyed by CloudEvent id (a redelivered letter is kept once)."""

    async def add(self, letter: DeadLetter) -> None: ...

    async def list(self, include_replayed: bool, limit: int) -> list[DeadLetter]:
        """Oldest first."""
        ...

    async def get(self, letter_id: str) -> DeadLetter | None: ...

    async def mark_replayed(self, letter_id: str, at: datetime) -> bool:
        """False when unknown or already replayed."""
        ...


class Republisher(Protocol):
    """Publish a dead letter's original message again on its topic."""

    async def republish(self, topic: str, data: dict[str, Any]) -> None: ...


class StorageReads(Protocol):
    """The operator API's read side of the worker's collections (``None``: every source)."""

    async def audit_trail(self, source_id: str | None, document_id: str | None, limit: int) -> list[AuditEntry]:
        """Newest first."""
        ...

    async def document_tallies(self, source_id: str | None) -> list[DocumentTally]: ...

    async def record_counts(self, source_id: str | None) -> dict[str, int]: ...

    async def rejected_row_counts(self, source_id: str | None) -> dict[str, int]: ...

    async def record_history(self, source_id: str, natural_key: str) -> list[RecordVersion]:
        """Every version of a key (closed ones and the current document), any order."""
        ...
