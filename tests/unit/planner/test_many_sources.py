"""Many sources: batch apply, bounded job registration, the sweep and the start-up sync at scale,
pages of sources, and triggers planned a bounded number at a time in arrival order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from planner_fakes import FakeJobRegistry, FakePublisher, Fakes, build_planner  # type: ignore[import-not-found]

from headwater.config import SourceConfig, config_hash
from planner.domain.jobs import RegisteredJob
from planner.domain.sources import ApplyStatus, StoredSource
from planner.service_layer.errors import Invalid
from planner.service_layer.outcomes import TriggerOutcome


def cfg(source_id: str, schedule: str = "0 6 * * *", **extra: Any) -> SourceConfig:
    data: dict[str, Any] = {
        "source_id": source_id,
        "ingestion": {"schedule": schedule, "request": {"base_url": f"https://api.example.com/{source_id}"}},
        **extra,
    }
    return SourceConfig.model_validate(data)


def many(count: int, **extra: Any) -> list[SourceConfig]:
    return [cfg(f"s-{i:03d}", **extra) for i in range(count)]


async def test_a_batch_stores_every_config_and_registers_the_jobs_a_bounded_number_at_a_time() -> None:
    fakes = Fakes()
    planner = build_planner(fakes, job_concurrency=4)

    items = await planner.sources.apply_many(many(50))

    assert [(i.source_id, i.status, i.version, i.reason) for i in items] == [
        (f"s-{i:03d}", ApplyStatus.CREATED, 1, None) for i in range(50)
    ]
    assert len(fakes.scheduler.jobs) == 50 and len(fakes.registry.jobs) == 50
    assert fakes.scheduler.jobs["source-s-007"] == {
        "schedule": "0 0 6 * * *",
        "data": {"source_id": "s-007", "config_version": 1},
    }
    assert fakes.scheduler.most_in_flight == 4


async def test_a_batch_again_changes_nothing_and_a_changed_config_replaces_its_job() -> None:
    fakes = Fakes()
    planner = build_planner(fakes)
    await planner.sources.apply_many(many(3))
    fakes.scheduler.calls.clear()

    again = await planner.sources.apply_many([cfg("s-000"), cfg("s-001", schedule="@every 5m"), cfg("s-002")])

    assert [(i.status, i.version) for i in again] == [
        (ApplyStatus.UNCHANGED, 1),
        (ApplyStatus.UPDATED, 2),
        (ApplyStatus.UNCHANGED, 1),
    ]
    assert fakes.scheduler.calls == [("delete", "source-s-001"), ("schedule", "source-s-001")]
    assert fakes.registry.jobs["s-001"].config_version == 2


async def test_a_batch_with_a_repeated_source_id_applies_nothing() -> None:
    fakes = Fakes()
    planner = build_planner(fakes)

    with pytest.raises(Invalid, match="source_id repeated in the batch: s-001"):
        await planner.sources.apply_many([cfg("s-001"), cfg("s-002"), cfg("s-001", description="again")])

    assert fakes.sources.current == {} and fakes.scheduler.calls == []


async def test_a_lost_race_is_that_config_s_conflict_and_the_others_are_applied() -> None:
    fakes = Fakes()
    planner = build_planner(fakes)
    taken = cfg("s-001", description="someone else's")
    now = fakes.clock.now()
    fakes.sources.versions["s-001", 1] = StoredSource("s-001", taken, 1, config_hash(taken), now, now)

    items = await planner.sources.apply_many(many(3))

    assert [(i.status, i.reason) for i in items] == [
        (ApplyStatus.CREATED, None),
        (None, "conflict"),
        (ApplyStatus.CREATED, None),
    ]
    assert items[1].error == "source 's-001' was changed concurrently; apply again"
    assert set(fakes.scheduler.jobs) == {"source-s-000", "source-s-002"}


async def test_while_the_scheduler_is_down_a_batch_is_stored_and_the_sweep_registers_the_jobs() -> None:
    fakes = Fakes()
    planner = build_planner(fakes)
    fakes.scheduler.down = True

    items = await planner.sources.apply_many(many(20))

    assert {(i.status, i.reason) for i in items} == {(ApplyStatus.CREATED, "scheduler_unavailable")}
    assert len(fakes.sources.current) == 20 and fakes.registry.jobs == {}
    assert len(fakes.scheduler.calls) < 20, "after the first unanswered call the others are not tried"

    fakes.scheduler.down = False
    report = await planner.jobs.sweep()

    assert len(report.registered) == 20 and len(fakes.scheduler.jobs) == 20 and len(fakes.registry.jobs) == 20


class ApplyWhileListing(FakeJobRegistry):
    """Runs ``during`` (another apply) when the sweep lists the jobs, before it reads them."""

    during: Any = None

    async def list(self) -> list[RegisteredJob]:
        if self.during is not None:
            during, self.during = self.during, None
            await during()
        return await super().list()


async def test_the_sweep_keeps_the_job_of_a_source_applied_while_it_runs() -> None:
    fakes = Fakes(registry=ApplyWhileListing())
    planner = build_planner(fakes)
    await planner.sources.apply(cfg("old"))
    fakes.registry.during = lambda: planner.sources.apply(cfg("new"))

    report = await planner.jobs.sweep()

    assert report.deleted == [] and set(fakes.scheduler.jobs) == {"source-old", "source-new"}
    assert set(fakes.registry.jobs) == {"old", "new"}


async def test_the_sweep_registers_missing_jobs_and_deletes_those_no_source_wants() -> None:
    fakes = Fakes()
    planner = build_planner(fakes)
    await planner.sources.apply_many([*many(3), cfg("push", ingestion={"mode": "push"})])
    fakes.scheduler.jobs.pop("source-s-001")
    fakes.registry.jobs.pop("s-001")  # its registration failed
    await fakes.sources.delete("s-002")  # deleted, its job left behind

    report = await planner.jobs.sweep()

    assert report.registered == ["source-s-001"] and report.deleted == ["source-s-002"]
    assert set(fakes.scheduler.jobs) == {"source-s-000", "source-s-001"}


async def test_the_start_up_sync_reads_the_sources_a_page_at_a_time() -> None:
    fakes = Fakes()
    planner = build_planner(fakes)
    await planner.sources.apply_many([*many(5), cfg("off", enabled=False)])
    fakes.scheduler.jobs.clear()  # the scheduler lost its data

    report = await planner.jobs.sync_all_jobs(page=2)

    assert sorted(report.registered) == [f"source-s-{i:03d}" for i in range(5)]
    assert len(fakes.scheduler.jobs) == 5 and report.deleted == []


async def test_sources_are_listed_by_id_a_page_at_a_time() -> None:
    planner = build_planner(Fakes())
    await planner.sources.apply_many(many(5))

    first = await planner.sources.page(None, 2)
    rest = await planner.sources.page(first[-1].source_id, 10)

    assert [s.source_id for s in first] == ["s-000", "s-001"]
    assert [s.source_id for s in rest] == ["s-002", "s-003", "s-004"]
    for limit in (0, 1001):
        with pytest.raises(Invalid, match="limit must be between 1 and 1000"):
            await planner.sources.page(None, limit)


class GatedPublisher(FakePublisher):
    """Holds every publish until ``gate`` opens; ``order`` is the sources in the order planned."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.waiting = 0
        self.order: list[str] = []

    async def publish(self, task: Any) -> None:
        self.order.append(task.source_id)
        self.waiting += 1
        await self.gate.wait()
        await super().publish(task)


async def test_triggers_are_planned_a_bounded_number_at_a_time_in_arrival_order() -> None:
    fakes = Fakes(publisher=GatedPublisher())
    planner = build_planner(fakes, trigger_concurrency=3)
    await planner.sources.apply_many(many(10))

    fired = [asyncio.create_task(planner.triggers.on_job(f"source-s-{i:03d}", None)) for i in range(10)]
    for _ in range(50):
        await asyncio.sleep(0)
    held = fakes.publisher.waiting
    fakes.publisher.gate.set()
    results = await asyncio.gather(*fired)

    assert held == 3, "only three plannings may be under way at once"
    assert {r.outcome for r in results} == {TriggerOutcome.PLANNED}
    assert fakes.publisher.order == [f"s-{i:03d}" for i in range(10)]


async def test_with_the_scheduler_down_the_start_up_sync_gives_up_after_the_first_unanswered_call() -> None:
    fakes = Fakes()
    planner = build_planner(fakes)
    await planner.sources.apply_many(many(30))
    await fakes.sources.delete("s-029")  # its job is unwanted now
    fakes.scheduler.down = True
    fakes.scheduler.calls.clear()

    report = await planner.jobs.sync_all_jobs(page=10)

    assert len(fakes.scheduler.calls) == 1, "one unanswered call; the others are not tried"
    assert len(report.pending) == 30 and report.registered == report.deleted == []
    assert fakes.registry.jobs["s-029"].pending_delete
