"""The worker's ports. Adapters: MongoDB and the Dapr sidecar; fakes in tests/unit/worker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from headwater.config import SourceConfig
from headwater.contracts.events import _Event
from headwater.contracts.messages import ContentReference, TaskResult

__all__ = [
    "AuditLog",
    "BlobReader",
    "Claim",
    "ConfigSource",
    "DatasetVersions",
    "EventPublisher",
    "ParsingLog",
    "RawDocuments",
    "RecordChange",
    "RecordStore",
    "ResultPublisher",
    "StoredRecord",
]


@dataclass(frozen=True)
class Claim:
    """The outcome of inserting a raw document: ``new`` (we process it), ``processed``
    (a duplicate: already done), ``in_progress`` (another delivery is on it), ``failed``."""

    state: str
    document_id: str


class RawDocuments(Protocol):
    """``raw_documents``: ``_id`` = ``<source>:<sha256>``; the insert decides who processes."""

    async def claim(self, document_id: str, meta: dict[str, Any], now: datetime, stale_after_s: float) -> Claim: ...

    async def finish(self, document_id: str, status: str, counts: dict[str, int], error: str | None = None) -> None: ...


class BlobReader(Protocol):
    async def get(self, ref: ContentReference) -> bytes: ...


class ConfigSource(Protocol):
    """Source configs from the planner (by id and version; raises LookupError when unknown)."""

    async def get(self, source_id: str, version: int) -> SourceConfig: ...

    async def latest_version(self, source_id: str) -> int: ...


@dataclass
class StoredRecord:
    natural_key: str
    version: int
    content_hash: str
    valid_from: datetime
    data: dict[str, Any] = field(default_factory=dict)
    dataset_version: str | None = None


@dataclass(frozen=True)
class RecordChange:
    natural_key: str
    new_version: int
    previous_version: int | None


class RecordStore(Protocol):
    """``records`` (current, ``_id`` = ``<source>:<key>``) + ``record_versions`` (closed versions,
    ``<source>:<key>:v<n>``): together the SCD-2 history."""

    async def current(self, source_id: str, keys: list[str]) -> dict[str, StoredRecord]: ...

    async def archive(self, source_id: str, versions: list[dict[str, Any]]) -> None:
        """Insert closed versions into ``record_versions`` (deterministic ids: a repeat is a no-op)."""
        ...

    async def set_current(self, source_id: str, pointers: list[tuple[dict[str, Any], int | None]]) -> int:
        """Move each pointer to its new version if it is still at the expected one."""
        ...

    async def get_version(self, source_id: str, natural_key: str, version: int) -> dict[str, Any] | None: ...

    async def remove_current(self, source_id: str, natural_key: str, expected_version: int) -> bool: ...


class ParsingLog(Protocol):
    async def write(self, entries: list[dict[str, Any]]) -> None: ...


class DatasetVersions(Protocol):
    """``dataset_versions`` (one per processed document) and ``dataset_changes`` (its changed
    records, in batches: ``_id`` = ``<version>:<batch>``, so a repeat is a no-op)."""

    async def record(self, version: dict[str, Any]) -> None: ...

    async def add_changes(self, version_id: str, batch: int, changes: list[RecordChange]) -> None: ...

    def changes(self, version_id: str) -> AsyncIterator[RecordChange]: ...

    async def get(self, version_id: str) -> dict[str, Any] | None: ...

    async def mark_rolled_back(self, version_id: str, at: datetime) -> bool: ...


class AuditLog(Protocol):
    async def write(self, entry: dict[str, Any]) -> None: ...


class EventPublisher(Protocol):
    async def publish(self, event: _Event) -> None: ...


class ResultPublisher(Protocol):
    async def publish(self, result: TaskResult) -> None: ...
