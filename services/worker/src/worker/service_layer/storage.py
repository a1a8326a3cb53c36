"""Upsert records by natural key with SCD-2 history (a new version only when content changed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from headwater.config import SourceConfig

from worker.domain.records import record_content_hash
from worker.domain.scd2 import StoredVersion, current_id, decide, version_id
from worker.service_layer.ports import RecordChange, RecordStore

__all__ = ["StoreResult", "store_records"]

CHUNK = 1000


@dataclass
class StoreResult:
    changes: list[RecordChange] = field(default_factory=list)
    unchanged: int = 0

    def counts(self) -> dict[str, int]:
        created = sum(1 for c in self.changes if c.previous_version is None)
        return {"records_created": created, "records_updated": len(self.changes) - created,
                "records_unchanged": self.unchanged}


async def store_records(store: RecordStore, config: SourceConfig, source_id: str, doc_id: str,
                        records: list[tuple[str, dict[str, Any], int]], now: datetime) -> StoreResult:
    """Apply the records of one document. Within a document the last row of a key wins."""
    history = config.store.history if config.store is not None else "scd2"
    latest: dict[str, dict[str, Any]] = {}
    for key, record, _row in records:
        latest[key] = record
    result = StoreResult()
    keys = list(latest)
    for i in range(0, len(keys), CHUNK):
        chunk = keys[i:i + CHUNK]
        current = await store.current(source_id, chunk)
        versions, closes, pointers = [], [], []
        for key in chunk:
            data = latest[key]
            digest = record_content_hash(data)
            stored = current.get(key)
            previous = None if stored is None else StoredVersion(
                natural_key=key, version=stored.version, content_hash=stored.content_hash,
                valid_from=stored.valid_from, valid_to=None, is_current=True)
            decision = decide(previous, digest, now, history)
            if decision.kind == "unchanged":
                result.unchanged += 1
                continue
            new_version = 1 if stored is None else stored.version + 1
            doc = {"_id": current_id(source_id, key), "source_id": source_id, "natural_key": key,
                   "version": new_version, "content_hash": digest, "data": data, "valid_from": now,
                   "dataset_version": doc_id, "updated_at": now}
            if history == "scd2":
                versions.append({**doc, "_id": version_id(source_id, key, new_version), "valid_to": None,
                                 "is_current": True})
                if stored is not None:
                    closes.append((key, stored.version, now))
            pointers.append((doc, None if stored is None else stored.version))
            result.changes.append(RecordChange(key, new_version, None if stored is None else stored.version))
        if versions:
            await store.write_versions(source_id, versions)
        if closes:
            await store.close_versions(source_id, closes)
        if pointers:
            await store.set_current(source_id, pointers)
    return result
