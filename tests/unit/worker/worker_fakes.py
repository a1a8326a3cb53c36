"""In-memory fakes of the worker's ports (they enforce the same unique ids as MongoDB)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from headwater.config import SourceConfig
from headwater.contracts.events import _Event
from headwater.contracts.messages import ContentReference, TaskResult
from worker.service_layer.ports import Claim, RecordChange, StoredRecord


class Clock:
    def __init__(self) -> None:
        self.current = datetime(2026, 2, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def tick(self, seconds: int = 60) -> None:
        self.current += timedelta(seconds=seconds)


class Raw:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}

    async def claim(self, document_id: str, meta: dict[str, Any], now: datetime, stale_after_s: float) -> Claim:
        if document_id not in self.docs:
            self.docs[document_id] = {**meta, "status": "processing", "claimed_at": now, "duplicates": 0}
            return Claim("new", document_id)
        doc = self.docs[document_id]
        if doc["status"] == "failed":
            doc["status"] = "processing"
            return Claim("new", document_id)
        if doc["status"] == "processing":
            if doc["claimed_at"] < now - timedelta(seconds=stale_after_s):
                doc["claimed_at"] = now
                return Claim("new", document_id)
            return Claim("in_progress", document_id)
        doc["duplicates"] += 1
        return Claim(doc["status"], document_id)

    async def finish(self, document_id: str, status: str, counts: dict[str, int], error: str | None = None) -> None:
        self.docs[document_id].update(status=status, counts=counts, error=error)


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


class Records:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.versions: dict[str, dict[str, Any]] = {}

    async def current(self, source_id: str, keys: list[str]) -> dict[str, StoredRecord]:
        return {
            d["natural_key"]: StoredRecord(
                d["natural_key"], d["version"], d["content_hash"], d["valid_from"], d["data"], d.get("dataset_version")
            )
            for k in keys
            if (d := self.rows.get(f"{source_id}:{k}"))
        }

    async def archive(self, source_id: str, versions: list[dict[str, Any]]) -> None:
        for v in versions:
            self.versions.setdefault(v["_id"], copy.deepcopy(v))

    async def set_current(self, source_id: str, pointers: list[tuple[dict[str, Any], int | None]]) -> int:
        moved = 0
        for doc, expected in pointers:
            existing = self.rows.get(doc["_id"])
            if (expected is None and existing is None) or (existing and existing["version"] == expected):
                self.rows[doc["_id"]] = copy.deepcopy(doc)
                moved += 1
        return moved

    async def get_version(self, source_id: str, natural_key: str, version: int) -> dict[str, Any] | None:
        return copy.deepcopy(self.versions.get(f"{source_id}:{natural_key}:v{version}"))

    async def remove_current(self, source_id: str, natural_key: str, expected_version: int) -> bool:
        doc = self.rows.get(f"{source_id}:{natural_key}")
        if doc and doc["version"] == expected_version:
            del self.rows[f"{source_id}:{natural_key}"]
            return True
        return False


class Log:
    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}

    async def write(self, entries: list[dict[str, Any]]) -> None:
        for e in entries:
            self.entries.setdefault(e["_id"], e)


class Datasets:
    def __init__(self) -> None:
        self.versions: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, list[RecordChange]] = {}

    async def add_changes(self, version_id: str, batch: int, changes: list[RecordChange]) -> None:
        if changes:
            self.batches.setdefault(f"{version_id}:{batch:06d}", list(changes))

    async def changes(self, version_id: str) -> AsyncIterator[RecordChange]:
        for key in sorted(k for k in self.batches if k.startswith(version_id + ":")):
            for change in self.batches[key]:
                yield change

    async def record(self, version: dict[str, Any]) -> None:
        self.versions[version["_id"]] = copy.deepcopy(version)

    async def get(self, version_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.versions.get(version_id))

    async def mark_rolled_back(self, version_id: str, at: datetime) -> bool:
        v = self.versions[version_id]
        if v.get("rolled_back_at"):
            return False
        v["rolled_back_at"] = at
        return True


class Audit:
    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}

    async def write(self, entry: dict[str, Any]) -> None:
        self.entries.setdefault(entry["_id"], entry)


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


class Letters:
    def __init__(self) -> None:
        self.letters: dict[str, dict[str, Any]] = {}

    async def add(self, letter: dict[str, Any]) -> None:
        self.letters.setdefault(letter["_id"], letter)

    async def list(self, include_replayed: bool, limit: int) -> list[dict[str, Any]]:
        return [v for v in self.letters.values() if include_replayed or not v["replayed_at"]][:limit]

    async def get(self, letter_id: str) -> dict[str, Any] | None:
        return self.letters.get(letter_id)

    async def mark_replayed(self, letter_id: str, at: datetime) -> bool:
        self.letters[letter_id]["replayed_at"] = at
        return True


class Republisher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def republish(self, topic: str, data: dict[str, Any]) -> None:
        self.sent.append((topic, data))
