"""Issue 13 (planner): catch-up firings coalesce, overdue runs are closed and their windows
retried, deletes stick while the scheduler is down — the planner on its in-memory fakes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from planner_fakes import Fakes, FixedClock, build_planner  # type: ignore[import-not-found]

from headwater.config import SourceConfig
from headwater.contracts.messages import FetchTask, TaskResult
from planner.bootstrap import Container
from planner.domain.jobs import RegisteredJob
from planner.domain.retries import WindowState
from planner.domain.sources import StoredSource
from planner.domain.watermarks import RunStatus
from planner.service_layer.outcomes import TriggerOutcome

T0 = datetime(2026, 1, 1, tzinfo=UTC)
H = timedelta(hours=1)


def source(schedule: str = "@every 1m", windowed: bool = True) -> StoredSource:
    ingestion: dict[str, Any] = {"schedule": schedule, "request": {"base_url": "https://api.example.com/o"}}
    if windowed:
        ingestion["window"] = {"cadence": "1h", "start": "2026-01-01T00:00:00Z", "slice": "1h", "retry_backoff": "1m"}
    config = SourceConfig.model_validate({"source_id": "orders", "ingestion": ingestion})
    return StoredSource("orders", config, 1, "h", T0, T0)


def planner(now: datetime = T0 + 3 * H, **kwargs: Any) -> tuple[Container, Fakes]:
    fakes = Fakes(clock=FixedClock(now))
    fakes.sources.current["orders"] = source(**kwargs)
    fakes.registry.jobs["orders"] = RegisteredJob("source-orders", "orders", "@every 1m", 1, T0)  # as apply does
    return build_planner(fakes, run_timeout=600), fakes


async def fetched(container: Container, task: FetchTask) -> None:
    common: dict[str, Any] = {"source_id": task.source_id, "task_id": task.task_id, "run_id": task.run_id}
    await container.results.on_result(
        TaskResult(
            **common, reporter="collection-model", status="succeeded", counts={"documents": 1}, window=task.window
        )
    )
    await container.results.on_result(TaskResult(**common, reporter="worker", status="succeeded", document_key="p-1"))


async def test_missed_ticks_fired_at_once_make_one_run_covering_every_due_window() -> None:
    container, fakes = planner()
    results = [await container.triggers.on_job("source-orders", None) for _ in range(4)]

    assert [r.outcome for r in results] == [TriggerOutcome.PLANNED] + [TriggerOutcome.COALESCED] * 3
    assert len(fakes.runs.runs) == 1
    assert len(fakes.publisher.published) == 3  # the three hours missed, in the one run


async def test_concurrent_firings_of_an_unwindowed_source_create_one_run_per_task() -> None:
    container, fakes = planner(windowed=False)
    results = await asyncio.gather(*(container.triggers.on_job("source-orders", None) for _ in range(5)))

    assert sum(r.outcome is TriggerOutcome.PLANNED for r in results) == 1
    task_ids = [t.task_id for t in fakes.publisher.published]
    assert task_ids == ["orders:tick-20260101T030000"]


async def test_the_next_tick_plans_again_after_half_a_period() -> None:
    container, fakes = planner(windowed=False)
    await container.triggers.on_job("source-orders", None)
    fakes.clock.advance(timedelta(seconds=20))  # a repeat within the same minute
    repeat = await container.triggers.on_job("source-orders", None)
    fakes.clock.advance(timedelta(seconds=45))  # the next minute's tick
    following = await container.triggers.on_job("source-orders", None)

    assert repeat.outcome is TriggerOutcome.COALESCED
    assert following.outcome is TriggerOutcome.PLANNED
    assert len({t.task_id for t in fakes.publisher.published}) == 2


async def test_a_tick_whose_planning_failed_is_given_back_so_the_redelivery_plans() -> None:
    container, fakes = planner()
    fakes.publisher.fail_from = 0
    failed = await container.triggers.on_job("source-orders", None)
    fakes.publisher.fail_from = None
    redelivered = await container.triggers.on_job("source-orders", None)

    assert failed.outcome is TriggerOutcome.FAILED
    assert redelivered.outcome is TriggerOutcome.PLANNED


async def test_an_overdue_run_is_closed_as_failed_naming_the_missing_tasks_and_its_windows_are_retried() -> None:
    container, fakes = planner()
    planned = await container.triggers.trigger("orders")
    first, second, third = fakes.publisher.published
    await fetched(container, first)
    fakes.clock.advance(timedelta(seconds=599))
    assert (await container.sweeper.sweep()).closed_runs == []

    fakes.clock.advance(timedelta(seconds=4 * 30 + 2))  # run_timeout + 4 request timeouts (30 s default)
    report = await container.sweeper.sweep()

    run = fakes.runs.runs[planned.run_id or ""]
    assert report.closed_runs == [planned.run_id] and run.status is RunStatus.FAILED
    assert run.error is not None and "2 of 3 task(s) never reported" in run.error
    assert second.task_id in run.error and third.task_id in run.error and first.task_id not in run.error
    tracked = {w.task_id: w for w in await fakes.retries.list("orders")}
    assert set(tracked) == {second.task_id, third.task_id}
    assert all(w.state is WindowState.FAILING for w in tracked.values())
    assert (await fakes.state.get("orders")).completed_until == first.window.end if first.window else False

    fakes.clock.advance(timedelta(minutes=2))  # past retry_backoff
    again = await container.triggers.trigger("orders")
    retried = [t for t in fakes.publisher.published if t.run_id == again.run_id]
    assert {t.task_id for t in retried} >= {second.task_id, third.task_id}
    assert all(t.attempt == 2 for t in retried if t.task_id in tracked)
    assert await container.sweeper.close_overdue_runs() == []  # closed once


async def test_a_report_after_the_timeout_recovers_its_window() -> None:
    container, fakes = planner()
    await container.triggers.trigger("orders")
    late = fakes.publisher.published[0]
    fakes.clock.advance(timedelta(hours=1))
    await container.sweeper.sweep()
    await fetched(container, late)

    assert (await fakes.retries.get(late.task_id)).state is WindowState.RECOVERED


async def test_deleting_while_the_scheduler_is_down_succeeds_and_the_sweep_deletes_the_job_later() -> None:
    fakes = Fakes(clock=FixedClock(T0))
    container = build_planner(fakes)
    await container.sources.apply(source().config)
    fakes.scheduler.down = True

    job_deleted = await container.sources.delete("orders")
    assert job_deleted is False and (await fakes.registry.get("orders")).pending_delete
    assert (await container.sweeper.sweep()).jobs.pending == ["source-orders"]

    fakes.scheduler.down = False
    swept = await container.sweeper.sweep()
    assert swept.jobs.deleted == ["source-orders"]
    assert fakes.scheduler.jobs == {} and fakes.registry.jobs == {}


async def test_a_trigger_for_a_deleted_source_deletes_its_job_and_succeeds() -> None:
    fakes = Fakes(clock=FixedClock(T0))
    container = build_planner(fakes)
    fakes.scheduler.jobs["source-gone"] = {"schedule": "@every 1m", "data": {}}

    result = await container.triggers.on_job("source-gone", {"source_id": "gone"})

    assert result.outcome is TriggerOutcome.SOURCE_DELETED
    assert "source-gone" not in fakes.scheduler.jobs


async def test_a_deleted_source_can_be_created_again_numbering_its_versions_on() -> None:
    fakes = Fakes(clock=FixedClock(T0))
    container = build_planner(fakes)
    await container.sources.apply(source().config)
    await container.sources.delete("orders")

    again = await container.sources.apply(source(schedule="@every 2m").config)

    assert again.status.value == "created" and again.source.version == 2
    assert (await container.sources.get("orders", 1)).config.ingestion.schedule == "@every 1m"
    assert fakes.scheduler.jobs["source-orders"]["schedule"] == "@every 2m"
