"""Upsert records by natural key with SCD-2 history (a new version only when content changed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from headwater.config import SourceConfig
from worker.domain.records import record_content_hash
from worker.domain.scd2 import StoredVersion, current_id, decide, version_id
from worker.service_layer.ports import RecordChange, RecordStore, StoredRecord

__all__ = ["StoreResult", "closed_copy", "store_records"]

CHUNK = 1000


@dataclass
class StoreResult:
    changes: list[RecordChange] = field(default_factory=list)
    unchanged: int = 0

    def counts(self) -> dict[str, int]:
        created = sum(1 for c in self.changes if c.previous_version is None)
        return {
            "records_created": created,
            "records_updated": len(self.changes) - created,
            "records_unchanged": self.unchanged,
        }


async def store_records(
    store: RecordStore,
    config: SourceConfig,
    source_id: str,
    doc_id: str,
    records: list[tuple[str, dict[str, Any], int]],
    now: datetime,
) -> StoreResult:
    """Apply the records of one document. Within a document the last row of a key wins.

    SCD-2 layout: ``records`` holds each key's current version (``valid_to`` null); when a
    version is superseded, a closed copy (``valid_to`` set, ``is_current`` false) goes to
    ``record_versions`` first, then the current document moves on — conditionally on the
    version it replaces. A first version costs one write, a change two.
    """
    history = config.store.history if config.store is not None else "scd2"
    latest: dict[str, dict[str, Any]] = {}
    for key, record, _row in records:
        latest[key] = record
    result = StoreResult()
    keys = list(latest)
    for i in range(0, len(keys), CHUNK):
        chunk = keys[i : i + CHUNK]
        current = await store.current(source_id, chunk)
        archive, pointers = [], []
        for key in chunk:
            data = latest[key]
            digest = record_content_hash(data)
            stored = current.get(key)
            previous = (
                None
                if stored is None
                else StoredVersion(
                    natural_key=key,
                    version=stored.version,
                    content_hash=stored.content_hash,
                    valid_from=stored.valid_from,
                    valid_to=None,
                    is_current=True,
                )
            )
            decision = decide(previous, digest, now, history)
            if decision.kind == "unchanged":
                result.unchanged += 1
                continue
            doc = {
                "_id": current_id(source_id, key),
                "source_id": source_id,
                "natural_key": key,
                "version": decision.version,
                "content_hash": digest,
                "data": data,
                "valid_from": now,
                "valid_to": None,
                "is_current": True,
                "dataset_version": doc_id,
                "updated_at": now,
            }
            if stored is not None and history == "scd2":
                archive.append(closed_copy(source_id, stored, now))
            pointers.append((doc, None if stored is None else stored.version))
            result.changes.append(RecordChange(key, decision.version, None if stored is None else stored.version))
        if archive:
            await store.archive(source_id, archive)
        if pointers:
            await store.set_current(source_id, pointers)
    return result


def closed_copy(source_id: str, stored: StoredRecord, now: datetime) -> dict[str, Any]:
    """The ``record_versions`` document of a superseded version."""
    return {
        "_id": version_id(source_id, stored.natural_key, stored.version),
        "source_id": source_id,
        "natural_key": stored.natural_key,
        "version": stored.version,
        "content_hash": stored.content_hash,
        "data": stored.data,
        "valid_from": stored.valid_from,
        "valid_to": now,
        "is_current": False,
        "dataset_version": stored.dataset_version,
    }
