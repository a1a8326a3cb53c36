"""A run's progress (``GET /api/v1/runs/{id}/progress``, ``headwater runs watch``): what the
reports of its tasks add up to so far — the planner on its in-memory fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from planner_fakes import Fakes, FixedClock, build_planner, settings  # type: ignore[import-not-found]

from headwater.config import SourceConfig
from headwater.contracts.messages import FetchTask, TaskResult
from planner.domain.progress import StoredReport, run_progress
from planner.domain.runs import Run
from planner.domain.sources import StoredSource
from planner.domain.watermarks import RunStatus
from planner.entrypoints.app import create_app

T0 = datetime(2026, 1, 1, tzinfo=UTC)
H = timedelta(hours=1)
FETCHED = {"items": 0, "pages": 2, "fetched": 2, "failed": 0, "documents": 2}


def _source() -> StoredSource:
    window = {"cadence": "1h", "start": "2026-01-01T00:00:00Z", "slice": "1h"}
    ingestion = {"schedule": "@hourly", "request": {"base_url": "https://api.example.com/o"}, "window": window}
    config = SourceConfig.model_validate({"source_id": "orders", "ingestion": ingestion})
    return StoredSource("orders", config, 1, "h", T0, T0)


def _report(task: FetchTask, reporter: str, status: str, counts: dict[str, int], key: str | None = None) -> TaskResult:
    values: dict[str, Any] = {"source_id": "orders", "task_id": task.task_id, "run_id": task.run_id}
    values |= {"reporter": reporter, "status": status, "counts": counts, "document_key": key}
    return TaskResult.model_validate(values | ({"window": task.window} if reporter == "collection-model" else {}))


async def test_the_progress_endpoint_adds_up_fetches_documents_and_records() -> None:
    fakes = Fakes(clock=FixedClock(T0 + 2 * H))
    fakes.sources.current["orders"] = _source()
    container = build_planner(fakes, run_timeout=600)
    await container.triggers.trigger("orders")
    first, second = fakes.publisher.published
    await container.results.on_result(_report(first, "collection-model", "succeeded", FETCHED))
    stored = {"rows": 3, "rows_rejected": 1, "records_created": 2, "records_updated": 0}
    await container.results.on_result(_report(first, "worker", "partial", stored, "p-1"))
    await container.results.on_result(_report(first, "worker", "duplicate", {"duplicates": 1}, "p-2"))
    app = create_app(settings())
    app.state.container, app.state.tokens = container, container.tokens
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://planner") as http:
        answer = await http.get(f"/api/v1/runs/{first.run_id}/progress", headers={"authorization": "Bearer test-token"})

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["run"]["run_id"] == first.run_id and body["run"]["status"] == "enqueued"
    assert body["progress"] == {
        "tasks": {"total": 2, "partial": 1, "pending": 1},
        "fetch": FETCHED,
        "documents": {"expected": 2, "stored": 1, "duplicate": 1, "failed": 0},
        "records": {"created": 2, "updated": 0, "deleted": 0, "unchanged": 0, "rows_rejected": 1},
    }
    assert second.task_id in body["run"]["task_ids"]


def test_a_failed_report_is_not_undone_by_a_later_one_and_other_tasks_do_not_count() -> None:
    run = Run("r1", "orders", "manual", T0, RunStatus.ENQUEUED, 1, task_ids=["t1"])
    reports = [
        StoredReport("t1", "worker", "failed", T0, "d1", {}),
        StoredReport("t1", "worker", "succeeded", T0 + H, "d1", {"records_created": 5}),
        StoredReport("t1", "collection-model", "succeeded", T0, "", {"documents": 1, "pages": 1}),
        StoredReport("t9", "worker", "succeeded", T0, "d9", {"records_created": 7}),
    ]

    progress = run_progress(run, reports)

    assert progress.documents == {"expected": 1, "stored": 0, "duplicate": 0, "failed": 1}
    assert progress.records["created"] == 0
    assert progress.tasks == {"total": 1, "pending": 1}
