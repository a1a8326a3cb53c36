"""Rolling back a dataset version: restore what the records were before that document.

Each processed document is a dataset version (``dataset_versions``, id = its occurrence id)
listing the records it created, changed or deleted. SCD-2 history keeps the previous versions,
so a rollback gives each record its previous content again — as a new version, the history
only grows: a deleted record comes back — or removes (tombstones) a record the rolled-back
version created. A record changed again by a later version is left alone and counted as a
conflict. The stream head moves off the rolled-back document, so sending it again processes
it again. The rollback is audited and announced. Versions a document placed into the past
(late records) stay in the history.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import structlog

from headwater.contracts.events import RecordsRolledBack
from worker.domain.audit import AuditRollback
from worker.domain.scd2 import CurrentMove, RecordChange, net_changes
from worker.service_layer.errors import Conflict, NotFound
from worker.service_layer.ports import AuditLog, Clock, DatasetVersions, EventPublisher, RecordStore, StreamHeads

__all__ = ["RollbackResult", "RollbackService"]

log = structlog.get_logger(__name__)

Undone = Literal["restored", "removed", "conflicts"]


@dataclass(frozen=True)
class RollbackResult:
    version: str
    restored: int
    removed: int
    conflicts: int


class RollbackService:
    def __init__(
        self,
        datasets: DatasetVersions,
        records: RecordStore,
        heads: StreamHeads,
        audit: AuditLog,
        events: EventPublisher,
        clock: Clock,
    ) -> None:
        self._datasets, self._records, self._heads = datasets, records, heads
        self._audit, self._events, self._clock = audit, events, clock

    async def rollback(self, version_id: str) -> RollbackResult:
        """Undo every change of ``version_id``. ``NotFound`` when unknown, ``Conflict`` when
        already rolled back or a previous version is missing from the history."""
        dataset = await self._datasets.get(version_id)
        if dataset is None:
            raise NotFound(f"dataset version {version_id!r} not found")
        if dataset.rolled_back_at:
            raise Conflict(f"dataset version {version_id!r} was already rolled back")
        source_id, now = dataset.source_id, self._clock.now()
        tally: Counter[Undone] = Counter()
        for change in net_changes([c async for c in self._datasets.changes(version_id)]):
            tally[await self._undo(source_id, version_id, change, now)] += 1
        result = RollbackResult(version_id, tally["restored"], tally["removed"], tally["conflicts"])
        await self._datasets.mark_rolled_back(version_id, now)
        if dataset.stream_id is not None:  # the same content sent again is processed again
            await self._heads.rolled_back(dataset.stream_id, version_id)
        await self._audit.write(
            AuditRollback(version_id, source_id, now, result.restored, result.removed, result.conflicts)
        )
        await self._events.publish(
            RecordsRolledBack(
                idempotency_key=f"records.rolled_back:{version_id}",
                source_id=source_id,
                occurred_at=now,
                dataset_version=version_id,
                restored=result.restored,
                removed=result.removed,
            )
        )
        log.info(
            "dataset version rolled back",
            version=version_id,
            restored=result.restored,
            removed=result.removed,
            conflicts=result.conflicts,
        )
        return result

    async def _undo(self, source_id: str, version_id: str, change: RecordChange, now: datetime) -> Undone:
        """Undo one change, if the record is still at the version the change made: the key's
        previous version comes back as a new version (history only grows), or — when it had
        none, or was deleted — the key becomes a tombstone again."""
        key, new, previous = change.natural_key, change.new_version, change.previous_version
        current = (await self._records.current(source_id, [key])).get(key)
        if current is None or current.version != new:
            return "conflicts"  # changed again (or removed) since: left alone
        await self._records.archive([current.closed(now)])
        number, by = current.last_number + 1, f"{version_id}:rollback"
        old = None if previous is None else await self._records.get_version(source_id, key, previous)
        if previous is not None and old is None:
            raise Conflict(
                f"version {previous} of {key!r} is not in the history (the source stores with history: none)"
            )
        outcome: Undone = "removed" if old is None or old.deleted else "restored"
        target = current.tombstone(number, now, by) if old is None or old.deleted else old.restored(number, now, by)
        moved = await self._records.set_current([CurrentMove(target, current.last_number)])
        return outcome if moved else "conflicts"
