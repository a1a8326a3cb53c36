"""In-memory fakes of the worker's ports: they keep domain objects under the same keys as the
MongoDB adapters, enforce the same uniqueness and conditions, and record what happened."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from worker_fake_bodies import Bodies
from worker_fake_reads import Reads
from worker_fake_records import Records
from worker_fake_streams import Heads, Snapshots

from headwater.config import SourceConfig
from headwater.contracts.events import _Event
from headwater.contracts.messages import ContentReference, TaskResult
from worker.bootstrap import Adapters
from worker.domain.audit import AuditReprocess, AuditRollback, AuditStep
from worker.domain.dead_letters import DeadLetter
from worker.domain.documents import DatasetVersion, Receipt, Rejection
from worker.domain.outbox import OutboxMessage
from worker.domain.scd2 import RecordChange


class Clock:
    def __init__(self) -> None:
        self.current = datetime(2026, 2, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def tick(self, seconds: int = 60) -> None:
        self.current += timedelta(seconds=seconds)


@dataclass
class RawState:
    receipt: Receipt | None
    status: str
    claimed_at: datetime
    duplicates: int = 0
    deliveries: int = 1
    counts: dict[str, int] | None = None
    error: str | None = None
    occurrence: str | None = None


class Raw:
    """``raw_documents`` by content: the first receipt kept, the latest occurrence's state."""

    def __init__(self) -> None:
        self.docs: dict[str, RawState] = {}

    async def begin(self, receipt: Receipt, occurrence: str, now: datetime) -> None:
        doc = self.docs.get(receipt.document_id)
        if doc is None:
            self.docs[receipt.document_id] = RawState(receipt, "processing", now, occurrence=occurrence)
            return
        doc.status, doc.claimed_at, doc.occurrence, doc.deliveries = "processing", now, occurrence, doc.deliveries + 1

    async def count_duplicate(self, document_id: str) -> None:
        if document_id in self.docs:
            self.docs[document_id].duplicates += 1

    async def finish(self, document_id: str, status: str, counts: dict[str, int], error: str | None = None) -> None:
        doc = self.docs[document_id]
        doc.status, doc.counts, doc.error = status, counts, error

    async def error(self, document_id: str) -> str | None:
        doc = self.docs.get(document_id)
        return doc.error if doc is not None and doc.status == "failed" else None

    async def receipts(self, source_id: str, document_id: str | None, since: datetime | None) -> AsyncIterator[Receipt]:
        kept = [d.receipt for key, d in self.docs.items() if d.receipt and document_id in (None, key)]
        mine = [r for r in kept if r.source_id == source_id and (since is None or r.fetched_at >= since)]
        for receipt in sorted(mine, key=lambda r: (r.fetched_at, r.document_id)):
            yield receipt


class Blobs:
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.reads = 0

    async def get(self, ref: ContentReference) -> bytes:
        self.reads += 1
        return self.blobs[ref.key]


class Configs:
    def __init__(self, configs: dict[tuple[str, int], SourceConfig]) -> None:
        self.configs = configs

    async def get(self, source_id: str, version: int) -> SourceConfig:
        if (source_id, version) not in self.configs:
            raise LookupError(f"source {source_id!r} version {version} not found")
        return self.configs[(source_id, version)]

    async def latest_version(self, source_id: str) -> int:
        versions = [v for s, v in self.configs if s == source_id]
        if not versions:
            raise LookupError(f"source {source_id!r} not found")
        return max(versions)


class Log:
    def __init__(self) -> None:
        self.entries: dict[str, Rejection] = {}

    async def write(self, entries: list[Rejection]) -> None:
        for e in entries:
            self.entries.setdefault(e.key, e)


class Datasets:
    def __init__(self) -> None:
        self.versions: dict[str, DatasetVersion] = {}
        self.batches: dict[str, list[RecordChange]] = {}

    async def add_changes(self, version_id: str, batch: int, changes: list[RecordChange]) -> list[RecordChange]:
        key = f"{version_id}:{batch:06d}"
        if changes:
            self.batches.setdefault(key, list(changes))
        return list(self.batches.get(key, changes))

    async def changes(self, version_id: str) -> AsyncIterator[RecordChange]:
        for key in sorted(k for k in self.batches if k.startswith(version_id + ":")):
            for change in self.batches[key]:
                yield change

    async def record(self, version: DatasetVersion) -> None:
        self.versions[version.version_id] = version

    async def get(self, version_id: str) -> DatasetVersion | None:
        return self.versions.get(version_id)

    async def mark_rolled_back(self, version_id: str, at: datetime) -> bool:
        v = self.versions.get(version_id)
        if v is None or v.rolled_back_at:
            return False
        self.versions[version_id] = replace(v, rolled_back_at=at)
        return True


class Audit:
    def __init__(self) -> None:
        self.entries: dict[str, AuditStep | AuditRollback | AuditReprocess] = {}

    async def write(self, entry: AuditStep | AuditRollback | AuditReprocess) -> None:
        self.entries.setdefault(entry.key, entry)


class Events:
    def __init__(self) -> None:
        self.events: list[_Event] = []

    async def publish(self, event: _Event) -> None:
        self.events.append(event)

    def types(self) -> list[str]:
        return [e.type for e in self.events]  # type: ignore[attr-defined]


class Results:
    def __init__(self) -> None:
        self.results: list[TaskResult] = []

    async def publish(self, result: TaskResult) -> None:
        self.results.append(result)


class OutboxStore:
    """``outbox`` by message id (a message kept twice stays as first kept)."""

    def __init__(self) -> None:
        self.kept: dict[str, OutboxMessage] = {}

    async def add(self, messages: list[OutboxMessage]) -> None:
        for m in messages:
            self.kept.setdefault(m.message_id, m)

    async def pending(self, limit: int) -> list[OutboxMessage]:
        return sorted(self.kept.values(), key=lambda m: m.created_at)[:limit]

    async def remove(self, message_id: str) -> None:
        self.kept.pop(message_id, None)


class Letters:
    def __init__(self) -> None:
        self.letters: dict[str, DeadLetter] = {}

    async def add(self, letter: DeadLetter) -> None:
        self.letters.setdefault(letter.letter_id, letter)

    async def list(self, include_replayed: bool, limit: int) -> list[DeadLetter]:
        kept = sorted(self.letters.values(), key=lambda d: d.received_at)
        return [d for d in kept if include_replayed or not d.replayed_at][:limit]

    async def get(self, letter_id: str) -> DeadLetter | None:
        return self.letters.get(letter_id)

    async def mark_replayed(self, letter_id: str, at: datetime) -> bool:
        letter = self.letters.get(letter_id)
        if letter is None or letter.replayed_at is not None:
            return False
        self.letters[letter_id] = replace(letter, replayed_at=at)
        return True


class Republisher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def republish(self, topic: str, data: dict[str, Any]) -> None:
        self.sent.append((topic, data))


class Metrics:
    """Counts per instance (never the process-wide OpenTelemetry counters), so tests running
    in any order or concurrently see only their own."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        self.observed: list[tuple[str, float, dict[str, str]]] = []

    def count(self, name: str, amount: int, **attributes: str) -> None:
        self.counts[(name, tuple(sorted(attributes.items())))] += amount

    def observe(self, name: str, seconds: float, **attributes: str) -> None:
        self.observed.append((name, seconds, attributes))

    def total(self, name: str) -> int:
        return sum(n for (counted, _), n in self.counts.items() if counted == name)

    def snapshot(self) -> dict[str, int]:
        return {f"headwater.worker.{name}": self.total(name) for name in sorted({n for n, _ in self.counts})}


class Tokens:
    def __init__(self, token: str | None = "secret") -> None:
        self.value = token

    async def token(self) -> str | None:
        return self.value


class FakeAdapters:
    """Every fake, reachable by name, and the ``Adapters`` that hand them to ``build``."""

    def __init__(self, configs: dict[tuple[str, int], SourceConfig]) -> None:
        self.clock, self.raw, self.records, self.log = Clock(), Raw(), Records(), Log()
        self.heads, self.snapshots = Heads(), Snapshots()
        self.datasets, self.audit, self.events, self.results = Datasets(), Audit(), Events(), Results()
        self.letters, self.republisher, self.blobs, self.bodies = Letters(), Republisher(), Blobs(), Bodies()
        self.outbox = OutboxStore()
        self.configs, self.metrics, self.tokens = Configs(configs), Metrics(), Tokens()
        self.reads = Reads(self.raw, self.records, self.log, self.audit)

    def adapters(self) -> Adapters:
        return Adapters(
            raw=self.raw,
            bodies=self.bodies,
            heads=self.heads,
            snapshots=self.snapshots,
            blobs=self.blobs,
            configs=self.configs,
            records=self.records,
            parsing_log=self.log,
            datasets=self.datasets,
            audit=self.audit,
            events=self.events,
            results=self.results,
            outbox=self.outbox,
            letters=self.letters,
            republisher=self.republisher,
            reads=self.reads,
            clock=self.clock,
            metrics=self.metrics,
            tokens=self.tokens,
        )
