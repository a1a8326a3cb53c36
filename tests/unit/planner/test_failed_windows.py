"""Failed windows planned again, with backoff and bounded attempts, and what that does to the
run, ``completed_until`` and the source's status — the planner on its in-memory fakes."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from planner_fakes import FakeRuns, Fakes, FixedClock, build_planner  # type: ignore[import-not-found]

from headwater.config import SourceConfig
from headwater.contracts.messages import FetchTask, TaskResult, TaskStatus
from planner.bootstrap import Container
from planner.domain.retries import WindowState
from planner.domain.runs import Run
from planner.domain.sources import StoredSource
from planner.domain.watermarks import RunStatus
from planner.service_layer.outcomes import TriggerOutcome

T0 = datetime(2026, 1, 1, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)
ERROR = "HTTP 500 from http://api.example.com/orders"


def source(**window: Any) -> StoredSource:
    spec = {"cadence": "1h", "start": "2026-01-01T00:00:00Z", "slice": "1h", "retry_backoff": "1m", **window}
    config = SourceConfig.model_validate(
        {
            "source_id": "orders",
            "ingestion": {"schedule": "@hourly", "request": {"base_url": "https://api.example.com/o"}, "window": spec},
        }
    )
    return StoredSource("orders", config, 1, "h", T0, T0)


def planner(now: datetime = T0 + 3 * H, **window: Any) -> tuple[Container, Fakes]:
    fakes = Fakes(clock=FixedClock(now))
    fakes.sources.current["orders"] = source(**window)
    return build_planner(fakes), fakes


async def fetch_failed(container: Container, task: FetchTask, error: str = ERROR) -> None:
    await container.results.on_result(
        TaskResult(
            source_id=task.source_id,
            task_id=task.task_id,
            run_id=task.run_id,
            reporter="collection-model",
            status=TaskStatus.FAILED,
            counts={"documents": 0},
            error=error,
            window=task.window,
        )
    )


async def fetched(container: Container, task: FetchTask) -> None:
    common: dict[str, Any] = {"source_id": task.source_id, "task_id": task.task_id, "run_id": task.run_id}
    await container.results.on_result(
        TaskResult(
            **common, reporter="collection-model", status="succeeded", counts={"documents": 1}, window=task.window
        )
    )
    await container.results.on_result(TaskResult(**common, reporter="worker", status="succeeded", document_key="p-1"))


async def test_a_failed_window_is_planned_again_after_its_backoff_with_the_next_attempt() -> None:
    container, fakes = planner()
    first = await container.triggers.trigger("orders")
    t0, t1, t2 = fakes.publisher.published
    await fetched(container, t0)
    await fetch_failed(container, t1)
    await fetched(container, t2)

    run = fakes.runs.runs[first.run_id or ""]
    assert run.status is RunStatus.PARTIAL and run.error == f"{t1.task_id}: {ERROR}"
    assert run.task_errors == {t1.task_id: ERROR}
    assert (await fakes.state.get("orders")).completed_until == T0 + H  # held back by the failed window
    tracked = fakes.retries.windows[t1.task_id]
    assert (tracked.state, tracked.attempt, tracked.next_attempt_at) == (WindowState.FAILING, 1, T0 + 3 * H + M)

    fakes.clock.advance(30 * timedelta(seconds=1))
    early = await container.triggers.trigger("orders")
    assert early.outcome is TriggerOutcome.SKIPPED and len(fakes.publisher.published) == 3  # backoff not over

    fakes.clock.advance(30 * timedelta(seconds=1))
    again = await container.triggers.trigger("orders")
    retry = fakes.publisher.published[-1]
    assert again.outcome is TriggerOutcome.PLANNED and again.work_items == 1
    assert (retry.task_id, retry.window, retry.attempt, retry.run_id) == (t1.task_id, t1.window, 2, again.run_id)
    assert fakes.runs.runs[again.run_id or ""].attempts == {t1.task_id: 2}
    assert fakes.runs.runs[again.run_id or ""].counts == {"work_items": 1, "retried": 1}
    assert (await fakes.state.get("orders")).planned_until == T0 + 3 * H  # a retry plans nothing new

    await fetched(container, retry)
    assert (await fakes.state.get("orders")).completed_until == T0 + 3 * H
    assert fakes.retries.windows[t1.task_id].state is WindowState.RECOVERED
    assert fakes.runs.runs[again.run_id or ""].status is RunStatus.SUCCEEDED


async def test_after_its_last_attempt_a_window_is_dead_and_holds_the_watermark() -> None:
    container, fakes = planner(now=T0 + H, max_attempts=2)
    await container.triggers.trigger("orders")
    await fetch_failed(container, fakes.publisher.published[0], "HTTP 500 (1)")
    fakes.clock.advance(M)
    await container.triggers.trigger("orders")
    await fetch_failed(container, fakes.publisher.published[1], "HTTP 500 (2)")

    dead = fakes.retries.windows[fakes.publisher.published[0].task_id]
    assert (dead.state, dead.attempt, dead.next_attempt_at) == (WindowState.DEAD, 2, None)
    assert dead.last_error == "gave up after 2 attempt(s): HTTP 500 (2)"
    fakes.clock.advance(timedelta(days=1) - H - M)  # a day later: only the windows of that day are new
    await container.triggers.trigger("orders")
    assert all(t.task_id != dead.task_id for t in fakes.publisher.published[2:])
    assert (await fakes.state.get("orders")).completed_until == T0


async def test_the_wait_doubles_after_each_failed_try_up_to_retry_backoff_max() -> None:
    container, fakes = planner(now=T0 + H, max_attempts=10, retry_backoff="1m", retry_backoff_max="3m")
    await container.triggers.trigger("orders")
    waits = []
    for _ in range(4):
        task = fakes.publisher.published[-1]
        await fetch_failed(container, task)
        next_at = fakes.retries.windows[task.task_id].next_attempt_at
        assert next_at is not None
        waits.append(next_at - fakes.clock.now())
        fakes.clock.current = next_at
        await container.triggers.trigger("orders")
    assert waits == [M, 2 * M, 3 * M, 3 * M]
    assert [t.attempt for t in fakes.publisher.published] == [1, 2, 3, 4, 5]


async def test_a_late_report_of_an_earlier_try_does_not_fail_the_retry() -> None:
    container, fakes = planner(now=T0 + H)
    await container.triggers.trigger("orders")
    first = fakes.publisher.published[0]
    await fetch_failed(container, first)
    fakes.clock.advance(M)
    await container.triggers.trigger("orders")

    await fetch_failed(container, first, "redelivered")  # the first try's report, delivered again
    tracked = fakes.retries.windows[first.task_id]
    assert (tracked.state, tracked.attempt, tracked.last_error) == (WindowState.RETRYING, 2, ERROR)

    await fetched(container, fakes.publisher.published[1])
    assert fakes.retries.windows[first.task_id].state is WindowState.RECOVERED
    assert (await fakes.state.get("orders")).completed_until == T0 + H


async def test_the_same_failure_reported_twice_at_once_counts_once() -> None:
    container, fakes = planner(now=T0 + H)
    await container.triggers.trigger("orders")
    task = fakes.publisher.published[0]
    fakes.retries.lost_races = 1  # one write loses a race and decides again

    await asyncio.gather(fetch_failed(container, task), fetch_failed(container, task))

    tracked = fakes.retries.windows[task.task_id]
    assert (tracked.attempt, tracked.revision, tracked.state) == (1, 1, WindowState.FAILING)


async def test_retries_come_first_and_new_windows_fill_the_room_left_under_the_cap() -> None:
    container, fakes = planner(now=T0 + 2 * H, max_slices_per_run=2)
    await container.triggers.trigger("orders")
    t0, t1 = fakes.publisher.published
    await fetch_failed(container, t0)
    await fetch_failed(container, t1)
    fakes.clock.advance(2 * H)  # two new windows are due as well

    await container.triggers.trigger("orders")
    assert [(t.task_id, t.attempt) for t in fakes.publisher.published[2:]] == [(t0.task_id, 2), (t1.task_id, 2)]
    assert (await fakes.state.get("orders")).planned_until == T0 + 2 * H  # no room for new windows

    for task in fakes.publisher.published[2:]:
        await fetched(container, task)
    await container.triggers.trigger("orders")
    assert [t.attempt for t in fakes.publisher.published[4:]] == [1, 1]
    assert (await fakes.state.get("orders")).planned_until == T0 + 4 * H


async def test_a_retry_that_cannot_be_published_is_due_again_at_once() -> None:
    container, fakes = planner(now=T0 + H)
    await container.triggers.trigger("orders")
    task = fakes.publisher.published[0]
    await fetch_failed(container, task)
    fakes.clock.advance(M)
    fakes.publisher.fail_from = 0

    result = await container.triggers.trigger("orders")

    assert result.outcome is TriggerOutcome.FAILED and "pubsub unavailable" in (result.detail or "")
    tracked = fakes.retries.windows[task.task_id]
    assert (tracked.state, tracked.attempt, tracked.next_attempt_at) == (WindowState.FAILING, 1, fakes.clock.now())
    fakes.publisher.fail_from = None
    await container.triggers.trigger("orders")
    assert fakes.publisher.published[-1].attempt == 2


class UnreachableRuns(FakeRuns):
    async def insert(self, run: Run) -> None:
        raise ConnectionError("mongodb unreachable")


async def test_a_claimed_retry_is_handed_back_when_planning_breaks_before_publishing() -> None:
    container, fakes = planner(now=T0 + H)
    await container.triggers.trigger("orders")
    task = fakes.publisher.published[0]
    await fetch_failed(container, task)
    fakes.clock.advance(M)
    broken = build_planner(dataclasses.replace(fakes, runs=UnreachableRuns()))

    with pytest.raises(ConnectionError):
        await broken.triggers.trigger("orders")

    tracked = fakes.retries.windows[task.task_id]
    assert (tracked.state, tracked.attempt) == (WindowState.FAILING, 1) and tracked.is_due(fakes.clock.now())


async def test_a_window_of_a_lookback_and_a_retry_is_planned_once() -> None:
    container, fakes = planner(now=T0 + 2 * H, lookback="2h")
    await container.triggers.trigger("orders")
    await fetch_failed(container, fakes.publisher.published[1])
    fakes.clock.advance(H)

    await container.triggers.trigger("orders")
    ids = [t.task_id for t in fakes.publisher.published[2:]]
    assert len(ids) == len(set(ids)) == 3 and fakes.publisher.published[2].attempt == 2


async def test_status_shows_failing_then_recovered_windows_and_the_last_error() -> None:
    container, fakes = planner(now=T0 + H)
    first = await container.triggers.trigger("orders")
    task = fakes.publisher.published[0]
    await fetch_failed(container, task)

    failing = await container.queries.source_status("orders")
    assert [(w.task_id, w.attempt, w.next_attempt_at) for w in failing.failing_windows] == [
        (task.task_id, 1, T0 + H + M)
    ]
    assert failing.max_attempts == 5 and failing.dead_windows == failing.recovered_windows == []
    assert failing.last_error is not None and failing.last_error.error == f"{task.task_id}: {ERROR}"

    fakes.clock.advance(M)
    await container.triggers.trigger("orders")
    await fetched(container, fakes.publisher.published[-1])
    recovered = await container.queries.source_status("orders")
    assert recovered.failing_windows == [] and [w.attempt for w in recovered.recovered_windows] == [2]
    assert recovered.completed_until == T0 + H
    assert recovered.last_error is not None and recovered.last_error.run_id == first.run_id  # still the failed try


async def test_an_unwindowed_failed_task_keeps_its_error_in_the_run_and_is_not_tracked() -> None:
    fakes = Fakes(clock=FixedClock(T0))
    config = SourceConfig.model_validate(
        {"source_id": "ticks", "ingestion": {"schedule": "@hourly", "request": {"base_url": "https://x.example/a"}}}
    )
    fakes.sources.current["ticks"] = StoredSource("ticks", config, 1, "h", T0, T0)
    container = build_planner(fakes)
    result = await container.triggers.trigger("ticks")
    await fetch_failed(container, fakes.publisher.published[0], "connection refused")

    run = fakes.runs.runs[result.run_id or ""]
    assert run.status is RunStatus.FAILED and run.error == f"{fakes.publisher.published[0].task_id}: connection refused"
    assert fakes.retries.windows == {}
