"""Issue 13 (planner): a store outage answers 503 with its reason, task results are held and
answered RETRY (never acknowledged unrecorded), and the shapes the planner relies on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from planner_fakes import FakeLedger, Fakes, FixedClock, build_planner, settings  # type: ignore[import-not-found]
from pymongo.errors import AutoReconnect, DuplicateKeyError, OperationFailure

from headwater.contracts.messages import TaskResult
from headwater.edge.subscriptions import Outcome
from planner.adapters.mongo_errors import is_store_unavailable
from planner.adapters.mongo_ledger import _progress, report_document, report_prefix
from planner.domain.runs import Run
from planner.domain.ticks import TickClaim, coalesce_spacing, may_claim_tick
from planner.domain.watermarks import RunStatus
from planner.entrypoints.app import create_app
from planner.entrypoints.background import record_holding
from planner.service_layer.errors import StoreUnavailable

AUTH = {"authorization": "Bearer test-token"}
NOW = datetime(2026, 1, 1, 3, tzinfo=UTC)
DOWN = "the store is unavailable (OperationFailure: failed to connect to PostgreSQL: connection refused)"


class DownLedger(FakeLedger):
    """The ledger while the store is down for the first ``failures`` calls."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def record(self, result: TaskResult) -> object:
        if self.failures > 0:
            self.failures -= 1
            raise StoreUnavailable(DOWN)
        return await super().record(result)


class DownRuns:
    async def list(self, source_id: str | None = None, limit: int = 50) -> list[object]:
        raise StoreUnavailable(DOWN)


def with_run(fakes: Fakes) -> Fakes:
    """``fakes`` holding the run the reports name (the planner accepts only reports of its runs)."""
    fakes.runs.runs["r1"] = Run("r1", "s", "schedule", NOW, RunStatus.ENQUEUED, 1, task_ids=["s:tick-1"])
    return fakes


def report(**extra: object) -> TaskResult:
    base: dict[str, object] = {"source_id": "s", "task_id": "s:tick-1", "run_id": "r1", "reporter": "worker"}
    return TaskResult.model_validate(base | {"status": "succeeded", "document_key": "p-1"} | extra)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    fakes = Fakes(clock=FixedClock(NOW))
    fakes.runs = DownRuns()  # type: ignore[assignment]
    app = create_app(settings())
    container = build_planner(fakes)
    app.state.container, app.state.tokens = container, container.tokens
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://planner") as client:
        yield client


async def test_the_api_answers_503_with_the_reason_while_the_store_is_down(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/v1/runs", headers=AUTH)

    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert response.json()["detail"] == {"message": DOWN, "reason": "store_unavailable", "retry_after_seconds": 5}


async def test_a_task_result_is_held_while_the_store_is_down_then_recorded() -> None:
    fakes = Fakes(clock=FixedClock(NOW))
    fakes.ledger = DownLedger(failures=2)
    outcome = await record_holding(build_planner(with_run(fakes)), report(), hold=5.0)

    assert outcome is Outcome.SUCCESS and len(fakes.ledger.seen) == 1


async def test_a_task_result_is_answered_retry_when_the_store_stays_down() -> None:
    fakes = Fakes(clock=FixedClock(NOW))
    fakes.ledger = DownLedger(failures=100)
    outcome = await record_holding(build_planner(with_run(fakes)), report(), hold=0.0)

    assert outcome is Outcome.RETRY and fakes.ledger.seen == set()


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (AutoReconnect("connection closed"), True),
        (OperationFailure("failed to connect to `host=127.0.0.1 user=x`: dial error (connection refused)", 1), True),
        (OperationFailure("FATAL: the database system is shutting down (SQLSTATE 57P03)", 1), True),
        (DuplicateKeyError("E11000 duplicate key error"), False),
        (OperationFailure('duplicate key value violates unique constraint "x"', 1), False),
        (OperationFailure("unknown operator: $foo", 2), False),
    ],
)
def test_store_errors_are_classified(error: Exception, transient: bool) -> None:
    assert is_store_unavailable(error) is transient


def test_a_report_has_one_deterministic_id_under_its_task_and_run_prefix() -> None:
    first, again, other = report_document(report()), report_document(report()), report_document(report(status="failed"))

    assert first["_id"] == again["_id"] != other["_id"]
    assert str(first["_id"]).startswith(report_prefix("s:tick-1", "r1"))


def test_the_progress_of_a_task_adds_up_its_reports_and_a_failure_sticks() -> None:
    fetch = report(reporter="collection-model", counts={"documents": 2}, document_key=None)
    docs = [report(document_key="p-1", status="failed"), report(document_key="p-1"), report(document_key="p-2")]
    stored = [report_document(r) | {"received_at": NOW + timedelta(seconds=i)} for i, r in enumerate([fetch, *docs])]

    progress = _progress(fetch, stored)

    assert progress.fetch_status == "succeeded" and progress.documents_expected == 2
    assert progress.document_status == {"p-1": "failed", "p-2": "succeeded"}


def test_coalescing_spacing_is_half_the_period() -> None:
    assert coalesce_spacing("@every 5s", NOW) == timedelta(seconds=2.5)
    assert coalesce_spacing("0 */2 * * *", NOW) == timedelta(hours=1)
    assert coalesce_spacing("not a schedule", NOW) == timedelta(0)


def test_a_tick_is_claimed_only_when_later_and_far_enough_from_the_last() -> None:
    last = TickClaim("tick-20260101T030000", NOW)
    spacing = timedelta(seconds=30)

    assert may_claim_tick(None, "tick-20260101T030000", NOW, spacing)
    assert not may_claim_tick(last, "tick-20260101T030000", NOW + timedelta(minutes=5), spacing)  # same tick
    assert not may_claim_tick(last, "tick-20260101T030100", NOW + timedelta(seconds=10), spacing)  # a burst
    assert may_claim_tick(last, "tick-20260101T030100", NOW + timedelta(seconds=60), spacing)
