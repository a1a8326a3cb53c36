"""A document interrupted between any two of its writes (the worker killed, the store gone)
resumes on its redelivery and converges to the end state of an uninterrupted run: the same
records, a complete change log (so a rollback restores exactly), the same dataset version, its
stream processed, every event and the task result published once (or kept in the outbox)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from worker_fake_records import Records
from worker_fake_streams import Heads
from worker_fakes import Datasets, Events, OutboxStore, Results
from worker_support import CONFIG, App, doc

from headwater.config import SourceConfig
from headwater.contracts.messages import RawDocument
from worker.bootstrap import build
from worker.domain.outbox import OutboxMessage
from worker.domain.scd2 import CurrentMove, RecordChange, RecordVersion
from worker.service_layer.outcomes import Processed
from worker.settings import Settings

ROWS, NEW = 45, 10  # B: three batches of 20 rows (settings.batch_rows)
CSV_A = "Product Code,Name,Price\n" + "".join(f"K{i:05d},Item {i},1.00\n" for i in range(ROWS))
# B changes every third price, adds NEW keys, leaves the rest as they are
CSV_B = "Product Code,Name,Price\n" + "".join(
    f"K{i:05d},Item {i},{'2.00' if i % 3 == 0 else '1.00'}\n" for i in range(ROWS + NEW)
)
LEASE = 30  # settings.claim_stale_after_s
FIVE_A_BATCH = SourceConfig.model_validate(
    {**CONFIG.model_dump(exclude_none=True, by_alias=True), "events": {"records_changed_batch": 5}}
)
SETTINGS = Settings(stream_wait_s=0, claim_stale_after_s=LEASE, batch_rows=20)


class Killed(Exception):
    """The process died: every call from now on fails too (nothing is released or cleaned up)."""


class Crash:
    """Counts the writes of one delivery and fails the ``at``-th and every later one."""

    def __init__(self, at: int | None = None) -> None:
        self.at, self.count, self.dead = at, 0, False

    def tick(self) -> None:
        if self.dead:
            raise Killed
        self.count += 1
        if self.at is not None and self.count >= self.at:
            self.dead = True
            raise Killed


class CrashingRecords(Records):
    def __init__(self, crash: Crash) -> None:
        super().__init__()
        self.crash = crash

    async def archive(self, versions: list[RecordVersion]) -> None:
        self.crash.tick()
        await super().archive(versions)

    async def set_current(self, moves: list[CurrentMove]) -> int:
        try:
            self.crash.tick()
        except Killed:  # an unordered bulk write cut off half-way
            await super().set_current(moves[: len(moves) // 2])
            raise
        return await super().set_current(moves)


class CrashingDatasets(Datasets):
    def __init__(self, crash: Crash) -> None:
        super().__init__()
        self.crash = crash

    async def add_changes(self, version_id: str, batch: int, changes: list[RecordChange]) -> list[RecordChange]:
        self.crash.tick()
        return await super().add_changes(version_id, batch, changes)

    async def record(self, version: Any) -> None:
        self.crash.tick()
        await super().record(version)


class CrashingHeads(Heads):
    def __init__(self, crash: Crash) -> None:
        super().__init__()
        self.crash = crash

    async def finish(self, head_id: str, occurrence: str, status: Any) -> None:
        self.crash.tick()
        await super().finish(head_id, occurrence, status)

    async def renew(self, head_id: str, occurrence: str, owner: str, at: Any) -> bool:
        self.crash.tick()
        return await super().renew(head_id, occurrence, owner, at)


class CrashingEvents(Events):
    def __init__(self, crash: Crash) -> None:
        super().__init__()
        self.crash = crash

    async def publish(self, event: Any) -> None:
        self.crash.tick()
        await super().publish(event)


class CrashingResults(Results):
    def __init__(self, crash: Crash) -> None:
        super().__init__()
        self.crash = crash

    async def publish(self, result: Any) -> None:
        self.crash.tick()
        await super().publish(result)


class CrashingOutbox(OutboxStore):
    def __init__(self, crash: Crash) -> None:
        super().__init__()
        self.crash = crash

    async def add(self, messages: list[OutboxMessage]) -> None:
        self.crash.tick()
        await super().add(messages)


class CrashingApp(App):  # type: ignore[misc]
    def __init__(self, crash: Crash) -> None:
        self.crash = crash
        super().__init__(FIVE_A_BATCH)
        self.c = build(self.adapters(), SETTINGS)

    def adapters(self) -> Any:
        self.records, self.datasets = CrashingRecords(self.crash), CrashingDatasets(self.crash)
        self.heads, self.events = CrashingHeads(self.crash), CrashingEvents(self.crash)
        self.results, self.outbox = CrashingResults(self.crash), CrashingOutbox(self.crash)
        return super().adapters()


def message(content: str, day: int) -> RawDocument:
    return doc(content, task=f"prices:upload-{day}", key="upload", fetched_at=datetime(2026, 2, day, tzinfo=UTC))


_A: list[CrashingApp] = []


async def after_a() -> CrashingApp:
    """A fresh copy of the worker once A is stored (A is processed once per session)."""
    if not _A:
        app = CrashingApp(Crash())
        assert isinstance(await app.c.processor.handle(message(CSV_A, 1)), Processed)
        _A.append(app)
    return copy.deepcopy(_A[0])


async def run(crash_at: int | None) -> tuple[CrashingApp, str]:
    """A stored, then B interrupted at its ``crash_at``-th write, the worker back a lease later
    and B delivered again (Dapr's redelivery or the dead-letter topic's re-drive)."""
    app = await after_a()
    app.crash.count, app.crash.at = 0, crash_at
    b = message(CSV_B, 2)
    try:
        outcome = await app.c.processor.handle(b)
    except Killed:
        app.crash.dead, app.crash.at = False, None  # restarted
        app.clock.tick(LEASE + 1)
        await app.c.outbox.drain()
        outcome = await app.c.processor.handle(b)
    assert isinstance(outcome, Processed), outcome
    app.crash.dead, app.crash.at = False, None  # Redis (the publisher) back: the lifespan drains
    await app.c.outbox.drain()
    return app, outcome.document_id


def state(app: CrashingApp, version: str) -> dict[str, Any]:
    records = {r.natural_key: (r.version, r.content_hash, r.dataset_version) for r in app.records.rows.values()}
    changes = sorted(
        (c.natural_key, c.new_version, c.previous_version, c.kind) for b in _batches(app, version) for c in b
    )
    dataset = app.datasets.versions[version]
    events = sorted({e.idempotency_key for e in app.events.events})
    results = sorted({(r.task_id, r.status, tuple(sorted(r.counts.items()))) for r in app.results.results})
    heads = sorted((h.head_id, h.occurrence, h.status) for h in app.heads.heads.values())
    return {
        "records": records,
        "changes": changes,
        "counts": dataset.counts,
        "events": events,
        "results": results,
        "heads": heads,
        "outbox": sorted(app.outbox.kept),
    }


def _batches(app: CrashingApp, version: str) -> list[list[RecordChange]]:
    return [b for k, b in sorted(app.datasets.batches.items()) if k.startswith(version + ":")]


WRITES = 19  # the writes one delivery of B makes (the reference test checks it)
_REFERENCE: list[tuple[CrashingApp, str]] = []


async def reference() -> tuple[CrashingApp, str]:
    if not _REFERENCE:
        _REFERENCE.append(await run(None))
    return _REFERENCE[0]


async def test_an_uninterrupted_run_is_the_reference() -> None:
    app, version = await reference()
    counts = app.datasets.versions[version].counts
    assert counts["records_updated"] == ROWS // 3 and counts["records_created"] == NEW
    assert counts["records_unchanged"] == ROWS - ROWS // 3
    assert app.crash.count == WRITES  # every crash point below is one of B's writes


@pytest.mark.parametrize("crash_at", range(1, WRITES + 1))
async def test_a_crash_at_any_write_converges(crash_at: int) -> None:
    reference_app, version = await reference()
    reference_app = copy.deepcopy(reference_app)
    app, resumed_version = await run(crash_at)
    assert resumed_version == version
    assert app.crash.count > 0
    assert state(app, version) == state(reference_app, version)
    rolled = await app.c.rollback.rollback(version)
    await reference_app.c.rollback.rollback(version)
    assert rolled.restored == ROWS // 3 and rolled.removed == NEW
    assert {k: (r.version, r.content_hash, r.live) for k, r in _by_key(app).items()} == {
        k: (r.version, r.content_hash, r.live) for k, r in _by_key(reference_app).items()
    }


def _by_key(app: CrashingApp) -> dict[str, RecordVersion]:
    return {r.natural_key: r for r in app.records.rows.values()}
