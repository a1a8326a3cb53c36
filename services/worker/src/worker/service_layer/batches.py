"""A document's batches, stored two at a time.

Extraction (parse, map, validate, hash) runs a batch ahead in a thread (``extract.ahead``);
storing a batch (look up its keys, log its changes, write them) overlaps storing the next one,
so the database works on one batch while this process plans the other. Two batches are in
flight only when their keys are disjoint: a key in both waits for the first to be applied, so
each key still sees its writes in row order. What follows a batch's store — counts, the cursor,
``records.changed``, the snapshot's keys — is done in batch order. Each batch logs its changes
before it applies them (``storage.store_records``), so a crash with two in flight resumes like
one with a single batch in flight: every batch re-derives its own changes.
"""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from headwater.config import SourceConfig
from worker.domain.scd2 import RecordChange
from worker.service_layer.extract import Extraction, ahead
from worker.service_layer.ports import ParsingLog, RecordStore
from worker.service_layer.storage import StoreResult, store_records

__all__ = ["IN_FLIGHT", "BatchDone", "BatchTarget", "ChangeLog", "StoredBatch", "store_batches"]

IN_FLIGHT = 2

ChangeLog = Callable[[int, list[RecordChange]], Awaitable[list[RecordChange]]]


@dataclass(frozen=True)
class StoredBatch:
    number: int
    extraction: Extraction
    result: StoreResult


BatchDone = Callable[[StoredBatch], Awaitable[None]]


@dataclass(frozen=True)
class BatchTarget:
    records: RecordStore
    rejections: ParsingLog
    changes: ChangeLog
    config: SourceConfig
    source_id: str
    occurrence: str
    now: datetime
    fetched_at: datetime | None


async def _store_one(target: BatchTarget, number: int, batch: Extraction) -> StoredBatch:
    if batch.rejections:
        await target.rejections.write(batch.rejections)
    result = await store_records(
        target.records,
        target.config,
        target.source_id,
        target.occurrence,
        batch.latest,
        target.now,
        target.fetched_at,
        log=functools.partial(target.changes, number),
    )
    return StoredBatch(number, batch, result)


async def store_batches(
    batches: Iterator[Extraction],
    target: BatchTarget,
    done: BatchDone,
    check: Callable[[], None],
    in_flight: int = IN_FLIGHT,
) -> int:
    """Store every batch (``check`` before each starts), calling ``done`` for each in order; how
    many batches there were. On a failure (a later batch that cannot be parsed, a lost claim) the
    batches in flight are finished, not cut half-way, before it is raised."""
    flying: deque[tuple[Extraction, asyncio.Task[StoredBatch]]] = deque()
    number = 0
    try:
        async for batch in ahead(batches):
            number += 1
            check()
            while flying and (len(flying) >= in_flight or _overlaps(flying, batch)):
                await done(await flying.popleft()[1])
            flying.append((batch, asyncio.create_task(_store_one(target, number, batch))))
        while flying:
            await done(await flying.popleft()[1])
    finally:
        await asyncio.gather(*(task for _, task in flying), return_exceptions=True)
    return number


def _overlaps(flying: deque[tuple[Extraction, asyncio.Task[StoredBatch]]], batch: Extraction) -> bool:
    """Whether a batch still being stored holds one of ``batch``'s keys."""
    return any(not batch.latest.keys().isdisjoint(other.latest) for other, _ in flying)
