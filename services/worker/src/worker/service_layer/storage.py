"""Upsert records by natural key with SCD-2 history (a new version only when content changed),
late records into the history at their place, and tombstones for what a snapshot no longer holds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from headwater.config import SourceConfig
from worker.domain.history import place_late
from worker.domain.scd2 import Incoming, MergePlan, RecordChange, RecordVersion, deletions, merge
from worker.service_layer.ports import RecordStore

__all__ = ["CHUNK", "StoreResult", "delete_absent", "store_records"]

CHUNK = 1000


@dataclass
class StoreResult:
    changes: list[RecordChange] = field(default_factory=list)
    unchanged: int = 0
    backdated: int = 0

    def counts(self) -> dict[str, int]:
        kinds = [c.kind for c in self.changes]
        return {
            "records_created": kinds.count("created"),
            "records_updated": kinds.count("updated"),
            "records_deleted": kinds.count("deleted"),
            "records_unchanged": self.unchanged,
            "records_backdated": self.backdated,
        }


async def _apply(store: RecordStore, plan: MergePlan) -> None:
    """Closed copies first, then the moves of the current documents (each conditional)."""
    if plan.archive:
        await store.archive(plan.archive)
    if plan.moves:
        await store.set_current(plan.moves)


async def store_records(
    store: RecordStore,
    config: SourceConfig,
    source_id: str,
    dataset_version: str,
    latest: dict[str, Incoming],
    now: datetime,
    fetched_at: datetime | None = None,
    log: Callable[[list[RecordChange]], Awaitable[list[RecordChange]]] | None = None,
) -> StoreResult:
    """Apply the records of one batch of a document (their dataset version is
    ``dataset_version``): ``latest`` holds each key's last row (``extract.Extraction.latest``).

    SCD-2 layout (``domain/scd2``): ``records`` holds each key's current version; when a
    version is superseded, a closed copy goes to ``record_versions`` first, then the current
    version moves on — conditionally on the version number it replaces.

    Write-ahead: the changes are ``log``ged (the dataset version's change log) *before* any is
    applied, and ``log`` answers what the log holds for this batch. A document resumed after a
    crash finds the keys it had applied unchanged, logs nothing new and takes the first run's
    changes back, so its change log, counts and ``records.changed`` events are those of an
    uninterrupted run.
    """
    spec = config.store
    history = spec.history if spec is not None else "scd2"
    keys = list(latest)
    plans: list[MergePlan] = []
    for i in range(0, len(keys), CHUNK):
        chunk = {key: latest[key] for key in keys[i : i + CHUNK]}
        current = await store.current(source_id, list(chunk))
        plans.append(merge(source_id, dataset_version, chunk, current, now, history, fetched_at))
    planned = [change for plan in plans for change in plan.changes]
    result = StoreResult(changes=await log(planned) if log is not None else planned)
    result.unchanged = max(0, sum(plan.unchanged for plan in plans) - (len(result.changes) - len(planned)))
    for plan in plans:
        await _apply(store, plan)
        for key, item in plan.late.items():
            placed = history == "scd2" and await _place_late(store, source_id, key, item, dataset_version, now)
            result.backdated += placed
            result.unchanged += not placed
    return result


async def _place_late(
    store: RecordStore, source_id: str, key: str, item: Incoming, dataset_version: str, now: datetime
) -> bool:
    """Put a record older than the current version into the history (``domain/history``)."""
    versions = await store.history(source_id, key)
    if not versions:
        return False
    plan = place_late(versions, versions[-1], item, dataset_version, now)
    if plan is None:
        return False
    if plan.insert is not None:
        assert plan.expected_seq is not None
        if not await store.take_number(source_id, key, plan.expected_seq):
            return False  # another document changed the key meanwhile; its redelivery places it again
        await store.archive([plan.insert])
    await store.retime(source_id, plan.retimes)
    return True


async def delete_absent(
    store: RecordStore,
    source_id: str,
    dataset_version: str,
    absent: list[str],
    now: datetime,
    history: str,
    older_than: datetime,
    log: Callable[[list[RecordChange]], Awaitable[None]],
) -> int:
    """Tombstone the live ``absent`` keys, chunk by chunk; a key a document fetched after
    ``older_than`` wrote (newer than the snapshot) is left alone. Each chunk's changes are ``log``ged
    before they are applied, so a rollback finds them even after a crash half-way. How many."""
    deleted = 0
    for i in range(0, len(absent), CHUNK):
        found = await store.current(source_id, absent[i : i + CHUNK])
        gone = [v for v in found.values() if v.live and _not_after(v, older_than)]
        plan = deletions(dataset_version, gone, now, history, older_than)
        await log(plan.changes)
        await _apply(store, plan)
        deleted += len(plan.changes)
    return deleted


def _not_after(version: RecordVersion, moment: datetime) -> bool:
    return version.fetched_at is None or version.fetched_at <= moment
