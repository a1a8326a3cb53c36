"""MongoDB adapters of the planner's source and job ports.

Uniqueness lives in deterministic ``_id``s (``<source>`` for the current config,
``<source>:v<version>`` for each version) because FerretDB makes unique compound indexes
very slow; every write is a single-document operation that is safe to repeat. A deleted
source leaves a tombstone in ``source_configs`` (``deleted: true`` and its last ``version``):
the versions stay in the history, and creating the id again continues their numbering.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from pydantic import ValidationError
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from headwater.config import SourceConfig, dump_source_config
from headwater.edge.mongo import upsert_retrying
from planner.adapters.mongo_errors import store_calls
from planner.domain.jobs import RegisteredJob
from planner.domain.sources import StoredSource

__all__ = ["MongoJobRegistry", "MongoSourceRepository", "source_document", "source_from_document"]

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

    async def list(self) -> list[StoredSource]:
        """Every current config; one stored under an older contract that no longer validates is
        left out and logged (re-apply it), so it cannot stop the start-up job sync."""
        sources = []
        async for doc in self._current.find({}):
            if doc.get("deleted"):
                continue
            try:
                sources.append(source_from_document(doc))
            except ValidationError as exc:
                log.error("stored source config no longer validates; re-apply it", source_id=doc["_id"], error=str(exc))
        return sources

    async def save(self, source: StoredSource) -> bool:
        doc = source_document(source)
        try:  # the version first: a repeat after a crash finds it and goes on
            await self._versions.insert_one({"_id": f"{source.source_id}:v{source.version}", **doc})
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


@store_calls()
class MongoJobRegistry:
    """``jobs``: one document per registered Dapr Job, ``_id`` = source id."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._jobs = db["jobs"]

    async def get(self, source_id: str) -> RegisteredJob | None:
        doc = await self._jobs.find_one({"_id": source_id})
        return self._to_job(doc) if doc else None

    async def list(self) -> list[RegisteredJob]:
        return [self._to_job(doc) async for doc in self._jobs.find({})]

    async def put(self, job: RegisteredJob) -> None:
        await upsert_retrying(
            lambda: self._jobs.replace_one(
                {"_id": job.source_id},
                {
                    "name": job.name,
                    "source_id": job.source_id,
                    "schedule": job.schedule,
                    "config_version": job.config_version,
                    "registered_at": job.registered_at,
                    "pending_delete": job.pending_delete,
                },
                upsert=True,
            )
        )

    async def remove(self, source_id: str) -> None:
        await self._jobs.delete_one({"_id": source_id})

    @staticmethod
    def _to_job(doc: dict[str, Any]) -> RegisteredJob:
        return RegisteredJob(
            doc["name"],
            doc["source_id"],
            doc["schedule"],
            doc["config_version"],
            _aware(doc["registered_at"]),
            bool(doc.get("pending_delete")),
        )
