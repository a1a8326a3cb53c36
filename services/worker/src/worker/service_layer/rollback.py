"""Rolling back a dataset version: restore what the records were before that document.

Each processed document is a dataset version (``dataset_versions``, ``_id`` = the raw
document id) listing the records it created or changed. SCD-2 history keeps the previous
versions, so a rollback points each record back at its previous version (or removes a
record the rolled-back version created). A record changed again by a later version is
left alone and counted as a conflict. The rollback is audited and announced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from headwater.contracts.events import RecordsRolledBack

from worker.service_layer.ports import AuditLog, DatasetVersions, EventPublisher, RecordStore

__all__ = ["RollbackError", "RollbackResult", "RollbackService"]

log = structlog.get_logger(__name__)


class RollbackError(LookupError):
    """Unknown version, already rolled back, or no history to restore from."""


@dataclass(frozen=True)
class RollbackResult:
    version: str
    restored: int
    removed: int
    conflicts: int


class RollbackService:
    def __init__(self, datasets: DatasetVersions, records: RecordStore, audit: AuditLog, events: EventPublisher,
                 clock: Any) -> None:
        self._datasets, self._records, self._audit, self._events, self._clock = datasets, records, audit, events, clock

    async def rollback(self, version_id: str) -> RollbackResult:
        dataset = await self._datasets.get(version_id)
        if dataset is None:
            raise RollbackError(f"dataset version {version_id!r} not found")
        if dataset.get("rolled_back_at"):
            raise RollbackError(f"dataset version {version_id!r} was already rolled back")
        source_id, now = dataset["source_id"], self._clock.now()
        restored = removed = conflicts = 0
        async for change in self._datasets.changes(version_id):
            key, new, previous = change.natural_key, change.new_version, change.previous_version
            if previous is None:
                if await self._records.remove_current(source_id, key, new):
                    removed += 1
                else:
                    conflicts += 1
                continue
            old = await self._records.get_version(source_id, key, previous)
            if old is None:
                raise RollbackError(f"version {previous} of {key!r} is not in the history "
                                    "(the source stores with history: none)")
            pointer = {k: v for k, v in old.items() if k not in ("valid_to", "is_current")}
            pointer["_id"] = f"{source_id}:{key}"
            pointer["updated_at"] = now
            if await self._records.set_current(source_id, [(pointer, new)]):
                await self._records.close_versions(source_id, [(key, new, now)])
                restored += 1
            else:
                conflicts += 1
        await self._datasets.mark_rolled_back(version_id, now)
        await self._audit.write({"_id": f"{version_id}:rollback", "at": now, "source_id": source_id,
                                 "document_id": version_id, "step": "rollback", "outcome": "done",
                                 "counts": {"restored": restored, "removed": removed, "conflicts": conflicts}})
        await self._events.publish(RecordsRolledBack(idempotency_key=f"records.rolled_back:{version_id}",
                                                     source_id=source_id, occurred_at=now,
                                                     dataset_version=version_id, restored=restored, removed=removed))
        log.info("dataset version rolled back", version=version_id, restored=restored, removed=removed,
                 conflicts=conflicts)
        return RollbackResult(version_id, restored, removed, conflicts)
