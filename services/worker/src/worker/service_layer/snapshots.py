"""Snapshot mode: collecting the keys a snapshot holds, and closing the ones it no longer does
(``domain/snapshots`` says when a snapshot is complete enough to delete)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from headwater.config import SourceConfig
from worker.domain.documents import DatasetVersion
from worker.domain.scd2 import RecordChange
from worker.domain.snapshots import SnapshotPart, SnapshotScope, SnapshotState, sweep_version_id
from worker.service_layer.announce import ChangeAnnouncer
from worker.service_layer.extract import Extraction
from worker.service_layer.ports import DatasetVersions, EventPublisher, RecordStore, Snapshots
from worker.service_layer.storage import delete_absent

__all__ = ["SnapshotKeys", "SnapshotSweeper", "is_snapshot", "single_request"]

log = structlog.get_logger(__name__)


def is_snapshot(config: SourceConfig) -> bool:
    return config.store is not None and config.store.mode == "snapshot"


def single_request(config: SourceConfig) -> bool:
    """The source's request yields one document per task (no pagination, no fan-out)."""
    request = config.ingestion.request
    return request is not None and request.pagination.type == "none" and config.ingestion.iteration is None


@dataclass
class SnapshotKeys:
    """The natural keys one processed document holds (its valid rows, and rejected rows whose
    key could be read): in memory for a single-document snapshot, else in ``snapshot_keys``."""

    scope: SnapshotScope
    occurrence: str
    store: Snapshots
    seen: set[str] = field(default_factory=set)
    unkeyed: int = 0
    batches: int = 0

    async def add(self, batch: int, extraction: Extraction) -> None:
        keys = {key for key, _record, _row in extraction.records} | extraction.rejected_keys
        self.unkeyed += extraction.unkeyed
        self.batches = batch
        if self.scope.single:
            self.seen |= keys
        else:
            await self.store.write_keys(self.occurrence, batch, sorted(keys))

    @property
    def complete(self) -> bool:
        """Every row's key is known (no rejected row without a readable key)."""
        return self.unkeyed == 0

    async def seal(self) -> None:
        if not self.scope.single:
            await self.store.seal_keys(self.occurrence, self.batches, self.complete)


class SnapshotSweeper:
    """Tombstones the keys a complete snapshot no longer holds, logged in a dataset version
    (so a rollback brings them back) and announced as ``deleted``."""

    def __init__(
        self,
        records: RecordStore,
        datasets: DatasetVersions,
        snapshots: Snapshots,
        events: EventPublisher,
        stale_after_s: float,
    ) -> None:
        self._records, self._datasets, self._snapshots = records, datasets, snapshots
        self._events, self._stale = events, stale_after_s
        self.snapshots = snapshots  # where documents keep their key sets (``SnapshotKeys``)

    async def sweep(
        self,
        config: SourceConfig,
        version_id: str,
        seen: set[str],
        now: datetime,
        older_than: datetime,
        first_batch: int,
        announcer: ChangeAnnouncer,
    ) -> int:
        """Delete every live key of the source not in ``seen`` (written by documents fetched no
        later than ``older_than``), as changes of ``version_id`` (batches from ``first_batch``);
        how many. An empty ``seen`` deletes nothing."""
        if not seen:  # a delivery without a single row is more likely a broken export than an empty source
            return 0
        source_id = config.source_id
        history = config.store.history if config.store is not None else "scd2"
        absent = [key async for key in self._records.live_keys(source_id) if key not in seen]
        numbers = itertools.count(first_batch)
        logged: list[RecordChange] = []

        async def log_changes(changes: list[RecordChange]) -> None:
            # a resumed sweep finds its applied chunks gone from the live keys: the batches its
            # first run logged are taken back (announced again) until this chunk's own number
            wanted = {c.natural_key for c in changes}
            while True:
                got = await self._datasets.add_changes(version_id, next(numbers), changes)
                logged.extend(got)
                if not changes or {c.natural_key for c in got} == wanted:
                    return

        deleted = await delete_absent(
            self._records, source_id, version_id, absent, now, history, older_than, log_changes
        )
        await announcer.add(logged)
        return deleted

    async def after_part(self, config: SourceConfig, part: SnapshotPart, task_id: str, now: datetime) -> int | None:
        """Record one document of a multi-document snapshot; when it completes the snapshot,
        sweep (once). How many keys were deleted, or None when it did not sweep."""
        state = await self._snapshots.add_part(part, now)
        if not state.ready or not await self._snapshots.claim_sweep(part.snapshot_id, now, self._stale):
            return None
        seen = await self._seen(state)
        if seen is None:
            await self._snapshots.swept(part.snapshot_id, now)
            return None
        version_id = sweep_version_id(part.snapshot_id)
        announcer = ChangeAnnouncer(self._events, config.source_id, version_id, now, config.events)
        deleted = await self.sweep(config, version_id, seen, now, state.first_fetched_at, 1, announcer)
        await announcer.finish()
        counts = {"records_deleted": deleted}
        await self._datasets.record(DatasetVersion(version_id, config.source_id, task_id, now, counts))
        await self._snapshots.swept(part.snapshot_id, now)
        log.info("snapshot swept", source_id=config.source_id, snapshot=part.snapshot_id, deleted=deleted)
        return deleted

    async def _seen(self, state: SnapshotState) -> set[str] | None:
        """The keys of every document of the snapshot; None when one of them is not known
        (processed before snapshot mode, or with a rejected row without a key)."""
        seen: set[str] = set()
        for occurrence in state.occurrences:
            keys = await self._snapshots.read_keys(occurrence)
            if keys is None:
                log.warning("snapshot not swept: keys of a document unknown", snapshot=state.snapshot_id)
                return None
            seen |= keys
        return seen
