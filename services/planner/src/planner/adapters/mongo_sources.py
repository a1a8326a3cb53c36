"""MongoDB adapters of the planner's source and job ports.

Uniqueness lives in deterministic ``_id``s (``<source>`` for the current config,
``<source>:v<version>`` for each version) because FerretDB makes unique compound indexes
very slow; every write is a single-document operation that is safe to repeat. A deleted
source leaves a tombstone in ``source_configs`` (``deleted: true`` and its last ``version``):
the versions stay in the history, and creating the id again continues their numbering.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from pydantic import ValidationError
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from headwater.config import SourceConfig, dump_source_config
from planner.adapters.mongo_errors import store_calls
from planner.adapters.mongo_jobs import DUPLICATE_KEY, SCAN_BATCH, MongoJobRegistry
from planner.domain.sources import SourceSchedule, StoredSource

__all__ = ["MongoJobRegistry", "MongoSourceRepository", "source_document", "source_from_document"]
# what the job sweep reads of each source (``schedules``): no config is validated
_SCHEDULE_FIELDS = {"deleted": 1, "config.enabled": 1, "config.ingestion.mode": 1, "config.ingestion.schedule": 1}

log = structlog.get_logger(__name__)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def source_from_document(doc: dict[str, Any]) -> StoredSource:
    """The stored document as the domain's ``StoredSource`` (the config validated by the contract)."""
    return StoredSource(
        source_id=doc["source_id"],
        config=SourceConfig.model_validate(doc["config"]),
        version=doc["version"],
        config_hash=doc["config_hash"],
        created_at=_aware(doc["created_at"]),
        updated_at=_aware(doc["updated_at"]),
    )


def source_document(source: StoredSource) -> dict[str, Any]:
    """The stored document: the config in its normalised form (``dump_source_config``), as always."""
    return {
        "source_id": source.source_id,
        "config": dump_source_config(source.config),
        "version": source.version,
        "config_hash": source.config_hash,
        "created_at": source.created_at,
        "updated_at": source.updated_at,
    }


@store_calls()
class MongoSourceRepository:
    """``source_configs`` (current) + ``source_config_versions`` (history, insert-only)."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._current = db["source_configs"]
        self._versions = db["source_config_versions"]

    async def get(self, source_id: str) -> StoredSource | None:
        doc = await self._current.find_one({"_id": source_id})
        return source_from_document(doc) if doc and not doc.get("deleted") else None

    async def last_version(self, source_id: str) -> int:
        doc = await self._current.find_one({"_id": source_id})
        return int(doc["version"]) if doc else 0

    async def get_version(self, source_id: str, version: int) -> StoredSource | None:
        doc = await self._versions.find_one({"_id": f"{source_id}:v{version}"})
        return source_from_document(doc) if doc else None

    async def get_many(self, source_ids: Sequence[str]) -> dict[str, StoredSource]:
        if not source_ids:
            return {}
        docs = await self._current.find({"_id": {"$in": list(source_ids)}}).to_list()
        return {s.source_id: s for s in _valid(docs)}

    async def last_versions(self, source_ids: Sequence[str]) -> dict[str, int]:
        if not source_ids:
            return {}
        docs = self._current.find({"_id": {"$in": list(source_ids)}}, {"version": 1})
        return {str(doc["_id"]): int(doc["version"]) async for doc in docs}

    async def page(self, after: str | None, limit: int) -> list[StoredSource]:
        """Keyset pages in ``_id`` order (the ``_id`` index serves the range and the order); a
        config that no longer validates is left out and logged (re-apply it)."""
        query = {"_id": {"$gt": after or ""}, "deleted": {"$ne": True}}
        return _valid(await self._current.find(query).sort("_id", 1).limit(limit).to_list())

    async def schedules(self) -> list[SourceSchedule]:
        found = []
        async for doc in self._current.find({}, _SCHEDULE_FIELDS).batch_size(SCAN_BATCH):
            if doc.get("deleted"):
                continue
            config, ingestion = doc.get("config") or {}, (doc.get("config") or {}).get("ingestion") or {}
            mode, schedule = ingestion.get("mode", "scheduled_pull"), ingestion.get("schedule")
            found.append(SourceSchedule(str(doc["_id"]), config.get("enabled", True) is not False, mode, schedule))
        return found

    async def save_many(self, sources: Sequence[StoredSource]) -> list[bool]:
        """New sources (version 1) in two unordered bulk inserts; each one that meets a duplicate
        key there, and every other source, goes through ``save``'s rules one at a time."""
        firsts = [i for i, source in enumerate(sources) if source.version == 1]
        taken = await _insert_all(self._versions, [_version_document(sources[i]) for i in firsts])
        fresh = [i for k, i in enumerate(firsts) if k not in taken]
        taken = await _insert_all(
            self._current, [{"_id": sources[i].source_id, **source_document(sources[i])} for i in fresh]
        )
        saved = {i: True for k, i in enumerate(fresh) if k not in taken}
        for i, source in enumerate(sources):
            if i not in saved:
                saved[i] = await self._save(source)
        return [saved[i] for i in range(len(sources))]

    async def save(self, source: StoredSource) -> bool:
        return await self._save(source)

    async def _save(self, source: StoredSource) -> bool:
        doc = source_document(source)
        try:  # the version first: a repeat after a crash finds it and goes on
            await self._versions.insert_one(_version_document(source))
        except DuplicateKeyError:
            existing = await self._versions.find_one({"_id": f"{source.source_id}:v{source.version}"})
            if not existing or existing["config_hash"] != source.config_hash:
                return False
        if source.version == 1:
            try:
                await self._current.insert_one({"_id": source.source_id, **doc})
            except DuplicateKeyError:
                current = await self._current.find_one({"_id": source.source_id})
                return bool(current and current.get("config_hash") == source.config_hash)
            return True
        result = await self._current.update_one(
            {"_id": source.source_id, "version": source.version - 1},
            {"$set": doc, "$unset": {"deleted": "", "deleted_at": ""}},  # a re-created source replaces its tombstone
        )
        if result.matched_count == 1:
            return True
        current = await self._current.find_one({"_id": source.source_id})
        same = current and current["version"] == source.version and current.get("config_hash") == source.config_hash
        return bool(same)

    async def delete(self, source_id: str) -> bool:
        """Replace the current config by its tombstone (keeping ``version``)."""
        doc = await self._current.find_one({"_id": source_id})
        if doc is None or doc.get("deleted"):
            return False
        now = datetime.now(UTC)
        tombstone = {"source_id": source_id, "version": doc["version"], "deleted": True, "deleted_at": now}
        result = await self._current.replace_one({"_id": source_id, "version": doc["version"]}, tombstone)
        return result.modified_count == 1


def _version_document(source: StoredSource) -> dict[str, Any]:
    return {"_id": f"{source.source_id}:v{source.version}", **source_document(source)}


def _valid(docs: Iterable[dict[str, Any]]) -> list[StoredSource]:
    """The current sources among ``docs``; one stored under an older contract that no longer
    validates is left out and logged (re-apply it), so it cannot stop a job sync or a listing."""
    sources = []
    for doc in docs:
        if doc.get("deleted"):
            continue
        try:
            sources.append(source_from_document(doc))
        except ValidationError as exc:
            log.error("stored source config no longer validates; re-apply it", source_id=doc["_id"], error=str(exc))
    return sources


async def _insert_all(collection: AsyncCollection[dict[str, Any]], docs: list[dict[str, Any]]) -> set[int]:
    """Insert ``docs`` unordered; the positions of those whose ``_id`` was taken already."""
    if not docs:
        return set()
    try:
        await collection.insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise
        return {int(error["index"]) for error in errors}
    return set()
