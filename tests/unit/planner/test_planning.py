"""Planning a trigger: work items, run audit, watermarks, lease — with in-memory fakes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from planner_fakes import FakePublisher, Fakes, FixedClock, build_planner  # type: ignore[import-not-found]

from headwater.config import SourceConfig
from headwater.contracts.messages import TaskResult, TaskStatus
from planner.domain.sources import StoredSource
from planner.domain.watermarks import RunStatus
from planner.service_layer.errors import Invalid, NotFound
from planner.service_layer.outcomes import TriggerOutcome

T0 = datetime(2026, 1, 1, tzinfo=UTC)
H = timedelta(hours=1)


def source(
    window: dict[str, Any] | None = None, schedule: str = "@every 1h", source_id: str = "orders"
) -> StoredSource:
    ingestion: dict[str, Any] = {
        "mode": "scheduled_pull",
        "schedule": schedule,
        "request": {"base_url": "https://api.example.com/x"},
    }
    if window:
        ingestion["window"] = window
    config = SourceConfig.model_validate({"source_id": source_id, "ingestion": ingestion})
    return StoredSource(source_id, config, 3, "h", T0, T0)


WINDOW = {
    "cadence": "1h",
    "start": "2026-01-01T00:00:00Z",
    "lookback": "0s",
    "slice": "1h",
    "max_slices_per_run": 24,
    "timezone": "UTC",
}


def make(publisher: FakePublisher | None = None, now: datetime = T0 + 3 * H, cap: int = 100):  # type: ignore[no-untyped-def]
    fakes = Fakes(publisher=publisher or FakePublisher(), clock=FixedClock(now))
    container = build_planner(fakes, max_work_items_per_run=cap)
    return container.planning, container.results, fakes.publisher, fakes.runs, fakes.state, fakes.clock


async def test_windowed_trigger_publishes_one_work_item_per_window_and_advances_planned() -> None:
    planning, _, pub, runs, state, _ = make()

    result = await planning.plan(source(WINDOW), manual=False)

    assert result.outcome is TriggerOutcome.PLANNED and result.work_items == 3
    assert [t.task_id for t in pub.published] == [
        f"orders:{(T0 + i * H).isoformat()}/{(T0 + (i + 1) * H).isoformat()}" for i in range(3)
    ]
    assert all(t.config_version == 3 and t.run_id == result.run_id for t in pub.published)
    assert (await state.get("orders")).planned_until == T0 + 3 * H
    assert (await state.get("orders")).completed_until == T0
    assert runs.runs[result.run_id].status is RunStatus.ENQUEUED


async def test_publish_failure_mid_run_leaves_watermarks_and_fails_the_run() -> None:
    planning, _, pub, runs, state, _ = make(FakePublisher(fail_from=1))

    result = await planning.plan(source(WINDOW), manual=False)

    assert result.outcome is TriggerOutcome.FAILED
    assert len(pub.published) == 1
    st = await state.get("orders")
    assert st.planned_until is None and st.completed_until is None
    run = runs.runs[result.run_id]
    assert run.status is RunStatus.FAILED and "pubsub unavailable" in (run.error or "")


async def test_up_to_date_source_is_skipped_and_audited() -> None:
    planning, _, pub, runs, _, clock = make()
    await planning.plan(source(WINDOW), manual=False)
    clock.advance(timedelta(minutes=30))

    again = await planning.plan(source(WINDOW), manual=False)

    assert again.outcome is TriggerOutcome.SKIPPED and again.detail == "up_to_date"
    assert len(pub.published) == 3
    assert runs.runs[again.run_id].status is RunStatus.SKIPPED


async def test_a_held_lease_makes_a_second_planner_skip() -> None:
    planning, _, pub, _, state, clock = make()
    assert await state.try_lease("orders", "other-replica", clock.now(), timedelta(minutes=2))

    result = await planning.plan(source(WINDOW), manual=False)

    assert result.outcome is TriggerOutcome.SKIPPED and pub.published == []


async def test_redelivered_scheduled_trigger_maps_to_the_same_task() -> None:
    planning, _, pub, _, _, clock = make(now=datetime(2026, 1, 1, 6, 0, 2, tzinfo=UTC))
    await planning.plan(source(schedule="0 6 * * *"), manual=False)
    clock.advance(timedelta(seconds=5))
    await planning.plan(source(schedule="0 6 * * *"), manual=False)

    assert pub.published[0].task_id == pub.published[1].task_id == "orders:tick-20260101T060000"


def result(task_id: str, reporter: str, status: TaskStatus, run_id: str, **kw: Any) -> TaskResult:
    return TaskResult(
        source_id="orders",
        task_id=task_id,
        run_id=run_id,
        reporter=reporter,  # type: ignore[arg-type]
        status=status,
        **kw,
    )


async def test_completed_advances_only_over_contiguous_succeeded_windows() -> None:
    planning, results, pub, runs, state, _ = make()
    run = await planning.plan(source(WINDOW), manual=False)
    t0, t1, t2 = pub.published

    for task, status in ((t0, TaskStatus.SUCCEEDED), (t2, TaskStatus.SUCCEEDED), (t1, TaskStatus.FAILED)):
        await results.on_result(
            result(
                task.task_id,
                "collection-model",
                TaskStatus.SUCCEEDED,
                run.run_id or "",
                counts={"documents": 1},
                window=task.window,
            )
        )
        await results.on_result(
            result(task.task_id, "worker", status, run.run_id or "", document_key="page-1", window=task.window)
        )

    st = await state.get("orders")
    assert st.completed_until == T0 + H  # the failed middle window holds it back
    assert runs.runs[run.run_id or ""].status is RunStatus.PARTIAL


async def test_task_is_not_done_until_every_document_reported() -> None:
    planning, results, pub, _, state, _ = make()
    await planning.plan(source(WINDOW), manual=False)
    t0 = pub.published[0]
    await results.on_result(
        result(
            t0.task_id, "collection-model", TaskStatus.SUCCEEDED, t0.run_id, counts={"documents": 2}, window=t0.window
        )
    )
    await results.on_result(result(t0.task_id, "worker", TaskStatus.SUCCEEDED, t0.run_id, document_key="page-1"))
    assert (await state.get("orders")).completed_until == T0

    await results.on_result(result(t0.task_id, "worker", TaskStatus.DUPLICATE, t0.run_id, document_key="page-2"))
    assert (await state.get("orders")).completed_until == T0 + H


async def test_backfill_plans_every_window_once_within_the_cap() -> None:
    planning, _, pub, _runs, state, _ = make(cap=4)
    out = await planning.backfill(source(WINDOW), T0, T0 + 10 * H)

    assert [r.work_items for r in out] == [4, 4, 2]
    ids = [t.task_id for t in pub.published]
    assert len(ids) == len(set(ids)) == 10
    assert (await state.get("orders")).planned_until is None  # backfill does not move the watermark


async def test_concurrent_triggers_in_one_replica_plan_once() -> None:
    planning, _, pub, _, _, _ = make()

    results = await asyncio.gather(*(planning.plan(source(WINDOW), manual=True) for _ in range(4)))

    assert sorted(r.outcome.value for r in results) == ["planned", "skipped", "skipped", "skipped"]
    assert len(pub.published) == 3


async def test_concurrent_triggers_count_what_happened_in_their_own_metrics() -> None:
    fakes = Fakes(clock=FixedClock(T0 + 3 * H))
    planning = build_planner(fakes).planning

    await asyncio.gather(*(planning.plan(source(WINDOW), manual=True) for _ in range(4)))

    assert fakes.metrics.counts["runs_skipped", "reason=leased"] == 3
    assert fakes.metrics.counts["work_items_enqueued"] == 3
    assert "runs_failed" not in fakes.metrics.counts


async def test_concurrent_runs_of_two_sources_fail_alike_whatever_their_interleaving() -> None:
    fakes = Fakes(publisher=FakePublisher(fail_from=2), clock=FixedClock(T0 + 3 * H))
    planning = build_planner(fakes).planning

    results = await asyncio.gather(*(planning.plan(source(WINDOW, source_id=s), manual=False) for s in ("a", "b")))

    assert [(r.outcome, r.work_items) for r in results] == [(TriggerOutcome.FAILED, 2)] * 2
    assert sorted(t.source_id for t in fakes.publisher.published) == ["a", "a", "b", "b"]
    failed = [fakes.runs.runs[r.run_id].task_ids[2] for r in results]
    assert [fakes.publisher.attempts[task_id] for task_id in failed] == [4, 4]  # every try of the third item
    assert fakes.metrics.counts["runs_failed"] == 2
    for sid in ("a", "b"):
        assert (await fakes.state.get(sid)).planned_until is None


async def test_backfill_refuses_an_unwindowed_source_and_naive_times() -> None:
    planning = make()[0]
    with pytest.raises(Invalid, match="has no window section; nothing to backfill"):
        await planning.backfill(source(), T0, T0 + H)
    with pytest.raises(Invalid, match="must be timezone-aware"):
        await planning.backfill(source(WINDOW), T0.replace(tzinfo=None), (T0 + H).replace(tzinfo=None))


async def test_backfill_through_triggers_checks_the_source_and_the_range() -> None:
    fakes = Fakes(clock=FixedClock(T0 + 3 * H))
    container = build_planner(fakes)
    with pytest.raises(NotFound, match="source 'orders' not found"):
        await container.triggers.backfill("orders", T0, T0 + H)
    fakes.sources.current["orders"] = source(WINDOW)
    with pytest.raises(Invalid, match="backfill needs start < end"):
        await container.triggers.backfill("orders", T0 + H, T0 + H)
    out = await container.triggers.backfill("orders", T0, T0 + 2 * H)
    assert [(r.outcome, r.work_items) for r in out] == [(TriggerOutcome.PLANNED, 2)]


async def test_a_manual_trigger_of_an_unknown_source_is_not_found() -> None:
    with pytest.raises(NotFound, match="source 'nope' not found"):
        await build_planner(Fakes()).triggers.trigger("nope")


async def test_an_unwindowed_manual_trigger_is_keyed_by_its_time() -> None:
    fakes = Fakes(clock=FixedClock(datetime(2026, 1, 1, 6, 0, 2, 5, tzinfo=UTC)))
    fakes.sources.current["orders"] = source()
    result = await build_planner(fakes).triggers.trigger("orders")
    assert result.outcome is TriggerOutcome.PLANNED
    assert [t.task_id for t in fakes.publisher.published] == ["orders:manual-20260101T060002.000005Z"]
