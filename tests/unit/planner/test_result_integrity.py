"""Issue 14 item 7: the planner accepts a task report only for a task it planned, from the
reporter it expects, in the state it expects; ``completed_until`` never passes ``planned_until``;
only the jobs it registered start runs — the planner on its in-memory fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from planner_fakes import Fakes, FixedClock, build_planner, settings  # type: ignore[import-not-found]

from headwater.config import SourceConfig
from headwater.contracts.messages import FetchTask, TaskResult, TimeWindow, task_id_for
from headwater.edge.subscriptions import Outcome
from planner.bootstrap import Container
from planner.domain.jobs import RegisteredJob
from planner.domain.retries import WindowState
from planner.domain.sources import StoredSource
from planner.domain.watermarks import RunStatus
from planner.entrypoints.app import create_app
from planner.entrypoints.background import record_holding
from planner.service_layer.errors import Refused
from planner.service_layer.outcomes import TriggerOutcome

T0 = datetime(2026, 1, 1, tzinfo=UTC)
H = timedelta(hours=1)


def source(source_id: str = "orders") -> StoredSource:
    window = {"cadence": "1h", "start": "2026-01-01T00:00:00Z", "slice": "1h", "retry_backoff": "1m"}
    ingestion = {"schedule": "@hourly", "request": {"base_url": "https://api.example.com/o"}, "window": window}
    config = SourceConfig.model_validate({"source_id": source_id, "ingestion": ingestion})
    return StoredSource(source_id, config, 1, "h", T0, T0)


async def planned(now: datetime = T0 + 3 * H) -> tuple[Container, Fakes, list[FetchTask]]:
    """The planner with one manual run of ``orders`` planned (three hourly windows)."""
    fakes = Fakes(clock=FixedClock(now))
    fakes.sources.current["orders"] = source()
    container = build_planner(fakes, run_timeout=600)
    await container.triggers.trigger("orders")
    return container, fakes, list(fakes.publisher.published)


def fetch_report(task: FetchTask, documents: int = 1, **extra: Any) -> TaskResult:
    base = {"source_id": task.source_id, "task_id": task.task_id, "run_id": task.run_id, "window": task.window}
    values = base | {"reporter": "collection-model", "status": "succeeded", "counts": {"documents": documents}}
    return TaskResult.model_validate(values | extra)


def doc_report(task: FetchTask, key: str = "p-1", **extra: Any) -> TaskResult:
    base = {"source_id": task.source_id, "task_id": task.task_id, "run_id": task.run_id}
    return TaskResult.model_validate(base | {"reporter": "worker", "status": "succeeded", "document_key": key} | extra)


def window(start: datetime, end: datetime) -> TimeWindow:
    return TimeWindow.model_validate({"from": start, "to": end})


async def refused(container: Container, result: TaskResult) -> str:
    """The refusal's reason; the delivery is answered DROP (the dead-letter topic)."""
    assert await record_holding(container, result, hold=0.0) is Outcome.DROP
    with pytest.raises(Refused) as caught:
        await container.results.on_result(result)
    return str(caught.value)


async def test_a_correct_result_still_completes_its_window() -> None:
    container, fakes, (first, _, _) = await planned()
    assert await container.results.on_result(fetch_report(first)) is None
    assert await container.results.on_result(doc_report(first)) == "succeeded"

    assert (await fakes.state.get("orders")).completed_until == T0 + H
    assert fakes.runs.runs[first.run_id].task_status == {first.task_id: "succeeded"}


async def test_a_forged_result_for_a_task_never_planned_is_refused_and_changes_nothing() -> None:
    container, fakes, (first, _, _) = await planned()
    beyond = window(T0 + 3 * H, T0 + 30 * H)
    never = fetch_report(first, task_id=task_id_for("orders", beyond), window=beyond, documents=0)
    other_run = fetch_report(first, run_id="0" * 32, documents=0)
    no_run = fetch_report(first, run_id=None, documents=0)
    other_source = fetch_report(first, source_id="billing", documents=0)

    assert await refused(container, never) == "the task was not planned in this run"
    assert await refused(container, other_run) == "no run of the planner has this run id"
    assert await refused(container, no_run) == "no run of the planner has this run id"
    assert await refused(container, other_source) == "the run belongs to another source"
    state = await fakes.state.get("orders")
    assert (state.planned_until, state.completed_until) == (T0 + 3 * H, T0)
    assert fakes.ledger.seen == set() and fakes.state.done == {}
    assert all(not run.task_status for run in fakes.runs.runs.values())


async def test_a_forged_window_beyond_planned_until_never_moves_completed_until() -> None:
    container, fakes, (first, _, _) = await planned()
    forged = fetch_report(first, documents=0, window=window(T0, T0 + 30 * H))

    assert await refused(container, forged) == "the window differs from the one planned for the task"
    assert (await fakes.state.get("orders")).completed_until == T0


async def test_windows_done_beyond_planned_until_wait_for_planning_to_reach_them() -> None:
    container, fakes, _ = await planned()
    await container.triggers.backfill("orders", T0 + 3 * H, T0 + 5 * H)  # not planned by the schedule yet
    later = fakes.publisher.published[3:]
    for task in [*fakes.publisher.published[:3], *later]:
        await container.results.on_result(fetch_report(task))
        await container.results.on_result(doc_report(task))

    state = await fakes.state.get("orders")
    assert len(later) == 2 and state.planned_until == state.completed_until == T0 + 3 * H
    assert await fakes.state.advance_completed_until("orders", T0 + 5 * H) is False  # the store refuses it too


async def test_reports_from_an_unexpected_reporter_or_for_an_unsent_task_are_refused() -> None:
    container, fakes, (first, _, _) = await planned()
    assert await refused(container, doc_report(first, key="")) == "a worker report names no document"
    assert await refused(container, fetch_report(first, document_key="p-1")) == "a fetch report names a document"

    fakes.publisher.fail_from = 1  # the second work item is not published, the third never tried
    fakes.clock.advance(3 * H)
    failed = await container.triggers.trigger("orders")
    run = fakes.runs.runs[failed.run_id or ""]
    assert failed.outcome is TriggerOutcome.FAILED and len(run.task_ids) == 3
    never_sent = FetchTask(
        source_id="orders", config_version=1, task_id=run.task_ids[2], run_id=run.run_id, window=run.windows[2]
    )
    assert await refused(container, fetch_report(never_sent, documents=0)) == "the task's work item was never published"
    assert (await fakes.state.get("orders")).completed_until == T0


async def test_a_duplicate_result_is_idempotent_and_a_settled_task_cannot_be_undone() -> None:
    container, fakes, (first, _, _) = await planned()
    for _ in range(2):
        await container.results.on_result(fetch_report(first))
        assert await container.results.on_result(doc_report(first)) == "succeeded"
    late_failure = doc_report(first, key="p-2", status="failed", error="HTTP 500")

    assert await record_holding(container, late_failure, hold=0.0) is Outcome.SUCCESS  # acknowledged, not applied
    assert await fakes.retries.get(first.task_id) is None  # the window was not turned into a failed one
    assert fakes.runs.runs[first.run_id].task_status == {first.task_id: "succeeded"}
    assert (await fakes.state.get("orders")).completed_until == T0 + H
    assert len(fakes.ledger.seen) == 2


async def test_a_worker_report_before_its_fetch_report_waits_for_the_fetchs_count() -> None:
    container, fakes, (first, _, _) = await planned()
    assert await container.results.on_result(doc_report(first)) is None  # recorded; cannot complete alone
    assert (await fakes.state.get("orders")).completed_until == T0

    assert await container.results.on_result(fetch_report(first)) == "succeeded"
    assert (await fakes.state.get("orders")).completed_until == T0 + H


async def test_a_late_success_after_the_timeout_still_recovers_its_window() -> None:
    container, fakes, (first, _, _) = await planned()
    fakes.clock.advance(timedelta(hours=1))
    assert (await container.sweeper.sweep()).closed_runs == [first.run_id]
    await container.results.on_result(fetch_report(first))
    await container.results.on_result(doc_report(first))

    assert (await fakes.retries.get(first.task_id)).state is WindowState.RECOVERED
    assert (await fakes.state.get("orders")).completed_until == T0 + H
    assert fakes.runs.runs[first.run_id].status is RunStatus.FAILED  # the run stays as the sweep closed it


async def test_an_uploads_document_reports_are_acknowledged_and_ignored() -> None:
    container, fakes, _ = await planned()
    upload = TaskResult.model_validate(
        {
            "source_id": "orders",
            "task_id": "orders:upload-0123456789abcdef",
            "run_id": "upload-0123456789abcdef",
            "reporter": "worker",
            "status": "succeeded",
            "document_key": "upload/a.csv",
        }
    )
    assert await record_holding(container, upload, hold=0.0) is Outcome.SUCCESS
    assert fakes.ledger.seen == set()


async def test_the_subscription_answers_drop_for_a_forged_result() -> None:
    container, _, (first, _, _) = await planned()
    app = create_app(settings())
    app.state.container, app.state.tokens = container, container.tokens
    forged = fetch_report(first, run_id="f" * 32, documents=0).model_dump(mode="json", by_alias=True)
    good = fetch_report(first).model_dump(mode="json", by_alias=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://planner") as http:
        dropped = await http.post("/events/pubsub/task-results", json={"id": "1", "data": forged})
        recorded = await http.post("/events/pubsub/task-results", json={"id": "2", "data": good})

    assert dropped.json() == {"status": "DROP"} and recorded.json() == {"status": "SUCCESS"}


# the job callback


async def jobs_planner() -> tuple[Container, Fakes]:
    fakes = Fakes(clock=FixedClock(T0 + 3 * H))
    container = build_planner(fakes)
    await container.sources.apply(source().config)  # registers the job
    fakes.sources.current["unjobbed"] = source("unjobbed")  # a source whose job the planner never registered
    return container, fakes


async def test_only_a_job_the_planner_registered_starts_a_run() -> None:
    container, fakes = await jobs_planner()
    unregistered = await container.triggers.on_job("source-unjobbed", {"source_id": "unjobbed"})
    other = await container.triggers.on_job("source-orders", {"source_id": "unjobbed", "config_version": 1})
    fakes.registry.jobs["orders"] = RegisteredJob("source-orders", "orders", "@hourly", 1, T0, pending_delete=True)
    deleting = await container.triggers.on_job("source-orders", None)
    assert [r.outcome for r in (unregistered, other, deleting)] == [TriggerOutcome.UNREGISTERED_JOB] * 3
    assert fakes.runs.runs == {} and fakes.publisher.published == []

    fakes.registry.jobs["orders"] = RegisteredJob("source-orders", "orders", "@hourly", 1, T0)
    live = await container.triggers.on_job("source-orders", {"source_id": "orders", "config_version": "x"})
    assert live.outcome is TriggerOutcome.PLANNED and len(fakes.publisher.published) == 3


async def test_a_job_for_a_deleted_source_is_still_deleted() -> None:
    container, fakes = await jobs_planner()
    fakes.scheduler.jobs["source-gone"] = {"schedule": "@every 1m", "data": {}}

    result = await container.triggers.on_job("source-gone", None)

    assert result.outcome is TriggerOutcome.SOURCE_DELETED and "source-gone" not in fakes.scheduler.jobs
