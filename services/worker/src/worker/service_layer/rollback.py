"""Rolling back a dataset version: restore what the records were before that document.

Each processed document is a dataset version (``dataset_versions``, ``_id`` = the raw
document id) listing the records it created or changed. SCD-2 history keeps the previous
versions, so a rollback gives each record its previous content again — as a new version, the
history only grows — or removes a record the rolled-back version created. A record changed again by a later version is
left alone and counted as a conflict. The rollback is audited and announced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from headwater.contracts.events import RecordsRolledBack
from worker.service_layer.ports import AuditLog, DatasetVersions, EventPublisher, RecordStore
from worker.service_layer.storage import closed_copy

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
    def __init__(
        self, datasets: DatasetVersions, records: RecordStore, audit: AuditLog, events: EventPublisher, clock: Any
    ) -> None:
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
            current = (await self._records.current(source_id, [key])).get(key)
            if current is None or current.version != new:
                conflicts += 1  # changed again (or removed) since: left alone
                continue
            await self._records.archive(source_id, [closed_copy(source_id, current, now)])
            if previous is None:
                removed += int(await self._records.remove_current(source_id, key, new))
                continue
            old = await self._records.get_version(source_id, key, previous)
            if old is None:
                raise RollbackError(
                    f"version {previous} of {key!r} is not in the history (the source stores with history: none)"
                )
            # history only grows: the restored content becomes a new version
            restored_doc = {
                **old,
                "_id": f"{source_id}:{key}",
                "version": new + 1,
                "valid_from": now,
                "valid_to": None,
                "is_current": True,
                "dataset_version": f"{version_id}:rollback",
                "updated_at": now,
            }
            if await self._records.set_current(source_id, [(restored_doc, new)]):
                restored += 1
            else:
                conflicts += 1
        await self._datasets.mark_rolled_back(version_id, now)
        await self._audit.write(
            {
                "_id": f"{version_id}:rollback",
                "at": now,
                "source_id": source_id,
                "document_id": version_id,
                "step": "rollback",
                "outcome": "done",
                "counts": {"restored": restored, "removed": removed, "conflicts": conflicts},
            }
        )
        await self._events.publish(
            RecordsRolledBack(
                idempotency_key=f"records.rolled_back:{version_id}",
                source_id=source_id,
                occurred_at=now,
                dataset_version=version_id,
                restored=restored,
                removed=removed,
            )
        )
        log.info(
            "dataset version rolled back", version=version_id, restored=restored, removed=removed, conflicts=conflicts
        )
        return RollbackResult(version_id, restored, removed, conflicts)
