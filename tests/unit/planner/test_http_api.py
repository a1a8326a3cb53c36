"""The planner's HTTP API on in-memory fakes: routes call the service layer, errors map to codes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from planner_fakes import Fakes, FixedClock, build_planner, settings  # type: ignore[import-not-found]

from headwater.config import SourceConfig, config_hash, dump_source_config
from planner.domain.sources import StoredSource
from planner.entrypoints.app import create_app

AUTH = {"authorization": "Bearer test-token"}
NOW = datetime(2026, 1, 1, 3, tzinfo=UTC)
BODY: dict[str, Any] = {
    "source_id": "orders",
    "ingestion": {
        "schedule": "0 6 * * *",
        "request": {"base_url": "https://api.example.com/orders"},
        "window": {"cadence": "1h", "start": "2026-01-01T00:00:00Z", "slice": "1h"},
    },
}


@dataclass
class Api:
    http: httpx.AsyncClient
    fakes: Fakes


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    fakes = Fakes(clock=FixedClock(NOW))
    app = create_app(settings())
    container = build_planner(fakes)
    app.state.container, app.state.tokens = container, container.tokens  # what the lifespan sets
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://planner") as http:
        yield Api(http, fakes)


async def test_apply_answers_created_then_unchanged_with_the_normalised_config(api: Api) -> None:
    first = await api.http.put("/api/v1/sources/orders", json=BODY, headers=AUTH)
    again = await api.http.put("/api/v1/sources/orders", json=BODY, headers=AUTH)

    assert first.status_code == 200 and first.json()["status"] == "created"
    assert again.json()["status"] == "unchanged" and again.json()["version"] == 1
    assert first.json()["config"] == dump_source_config(SourceConfig.model_validate(BODY))
    assert set(first.json()) == {
        "status", "source_id", "version", "config_hash", "enabled", "created_at", "updated_at", "config"
    }  # fmt: skip


async def test_an_invalid_body_or_a_mismatched_id_is_422(api: Api) -> None:
    bad = await api.http.put("/api/v1/sources/orders", json={**BODY, "enabled": "maybe"}, headers=AUTH)
    other = await api.http.put("/api/v1/sources/other", json=BODY, headers=AUTH)

    assert bad.status_code == 422 and bad.json()["detail"]["message"] == "invalid source config"
    assert other.status_code == 422
    assert other.json()["detail"] == {
        "message": "source_id 'orders' in the body does not match 'other' in the path",
        "errors": [],
    }


async def test_a_lost_race_is_409(api: Api) -> None:
    taken = SourceConfig.model_validate({**BODY, "description": "someone else's"})
    api.fakes.sources.versions["orders", 1] = StoredSource("orders", taken, 1, config_hash(taken), NOW, NOW)

    response = await api.http.put("/api/v1/sources/orders", json=BODY, headers=AUTH)

    assert response.status_code == 409
    assert response.json() == {"detail": "source 'orders' was changed concurrently; apply again"}


@pytest.mark.parametrize(
    ("method", "path", "detail"),
    [
        ("GET", "/api/v1/sources/nope", "source 'nope' not found"),
        ("GET", "/api/v1/sources/orders?version=9", "source 'orders' not found at version 9"),
        ("DELETE", "/api/v1/sources/nope", "source 'nope' not found"),
        ("POST", "/api/v1/sources/nope/trigger", "source 'nope' not found"),
        ("GET", "/api/v1/sources/nope/status", "source 'nope' not found"),
        ("GET", "/api/v1/runs/r-1", "run 'r-1' not found"),
    ],
)
async def test_what_does_not_exist_is_404(api: Api, method: str, path: str, detail: str) -> None:
    await api.http.put("/api/v1/sources/orders", json=BODY, headers=AUTH)

    response = await api.http.request(method, path, headers=AUTH)

    assert (response.status_code, response.json()) == (404, {"detail": detail})


async def test_every_api_route_needs_the_token(api: Api) -> None:
    for method, path in [("GET", "/api/v1/sources"), ("GET", "/api/v1/runs"), ("POST", "/api/v1/sources/x/trigger")]:
        assert (await api.http.request(method, path)).status_code == 401


async def test_trigger_then_runs_and_status(api: Api) -> None:
    await api.http.put("/api/v1/sources/orders", json=BODY, headers=AUTH)

    trigger = (await api.http.post("/api/v1/sources/orders/trigger", headers=AUTH)).json()
    runs = (await api.http.get("/api/v1/runs", params={"source": "orders"}, headers=AUTH)).json()
    run = (await api.http.get(f"/api/v1/runs/{trigger['run_id']}", headers=AUTH)).json()
    status = (await api.http.get("/api/v1/sources/orders/status", headers=AUTH)).json()

    assert trigger == {
        "outcome": "planned", "source_id": "orders", "run_id": trigger["run_id"], "work_items": 3, "detail": None
    }  # fmt: skip
    assert [r["run_id"] for r in runs] == [trigger["run_id"]] and run == runs[0]
    assert run["status"] == "enqueued" and run["windows"][0] == {
        "from": "2026-01-01T00:00:00+00:00",
        "to": "2026-01-01T01:00:00+00:00",
    }
    assert status["planned_until"] == "2026-01-01T03:00:00+00:00"
    assert status["completed_until"] == "2026-01-01T00:00:00+00:00" and status["lag_seconds"] == 3 * 3600
    assert status["job"] == {"name": "source-orders", "schedule": "0 0 6 * * *", "config_version": 1}
    assert status["last_runs"] == runs and status["failures"] == []


async def test_a_failed_window_shows_its_error_in_the_run_and_in_the_status(api: Api) -> None:
    await api.http.put("/api/v1/sources/orders", json=BODY, headers=AUTH)
    trigger = (await api.http.post("/api/v1/sources/orders/trigger", headers=AUTH)).json()
    for task in api.fakes.publisher.published:
        result = {
            "source_id": "orders",
            "task_id": task.task_id,
            "run_id": task.run_id,
            "reporter": "collection-model",
            "status": "failed",
            "error": "HTTP 500 from https://api.example.com/orders",
            "window": task.window.model_dump(mode="json", by_alias=True) if task.window else None,
        }
        delivered = await api.http.post("/events/pubsub/task-results", json={"id": task.task_id, "data": result})
        assert delivered.json() == {"status": "SUCCESS"}

    run = (await api.http.get(f"/api/v1/runs/{trigger['run_id']}", headers=AUTH)).json()
    status = (await api.http.get("/api/v1/sources/orders/status", headers=AUTH)).json()

    first = api.fakes.publisher.published[0].task_id
    assert run["status"] == "failed"
    assert run["error"] == f"3 tasks did not succeed; {first}: HTTP 500 from https://api.example.com/orders"
    assert run["task_errors"][first] == "HTTP 500 from https://api.example.com/orders"
    assert status["max_attempts"] == 5 and status["dead_windows"] == status["recovered_windows"] == []
    assert status["failing_windows"][0] == {
        "task_id": first,
        "from": "2026-01-01T00:00:00+00:00",
        "to": "2026-01-01T01:00:00+00:00",
        "state": "failing",
        "attempt": 1,
        "next_attempt_at": "2026-01-01T03:01:00+00:00",
        "last_error": "HTTP 500 from https://api.example.com/orders",
        "last_failed_at": "2026-01-01T03:00:00+00:00",
        "last_failed_run": trigger["run_id"],
        "run_id": trigger["run_id"],
        "first_failed_at": "2026-01-01T03:00:00+00:00",
        "updated_at": "2026-01-01T03:00:00+00:00",
    }
    assert len(status["failing_windows"]) == 3
    assert status["last_error"]["error"] == run["error"] and status["last_error"]["run_id"] == trigger["run_id"]


async def test_backfill_answers_its_runs_and_422_for_a_bad_range(api: Api) -> None:
    await api.http.put("/api/v1/sources/orders", json=BODY, headers=AUTH)
    path = "/api/v1/sources/orders/backfill"

    ok = await api.http.post(path, json={"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T02:00:00Z"}, headers=AUTH)
    empty = await api.http.post(
        path, json={"start": "2026-01-01T02:00:00Z", "end": "2026-01-01T01:00:00Z"}, headers=AUTH
    )

    assert ok.status_code == 200 and ok.json()["source_id"] == "orders"
    assert [(r["outcome"], r["work_items"]) for r in ok.json()["runs"]] == [("planned", 2)]
    assert (empty.status_code, empty.json()) == (422, {"detail": "backfill needs start < end"})


async def test_job_callbacks_acknowledge_what_cannot_plan_and_record_probes(api: Api) -> None:
    deleted = await api.http.post("/job/source-nope", content=b"")
    probe = await api.http.post("/job/probe-1", content=b"hello")

    assert deleted.json() == {"outcome": "source_deleted", "run_id": None, "work_items": 0}
    assert probe.json() == {"status": "recorded"}


def _batch_body(source_id: str, **extra: Any) -> dict[str, Any]:
    return {**BODY, "source_id": source_id, **extra}


async def test_a_batch_apply_answers_each_config_in_order(api: Api) -> None:
    first = await api.http.put("/api/v1/sources", json=[_batch_body("b"), _batch_body("a")], headers=AUTH)
    again = await api.http.put(
        "/api/v1/sources", json=[_batch_body("a"), _batch_body("b", description="changed")], headers=AUTH
    )

    assert first.status_code == 200
    assert first.json() == {
        "results": [
            {"source_id": "b", "status": "created", "version": 1},
            {"source_id": "a", "status": "created", "version": 1},
        ]
    }
    assert again.json()["results"] == [
        {"source_id": "a", "status": "unchanged", "version": 1},
        {"source_id": "b", "status": "updated", "version": 2},
    ]
    assert set(api.fakes.scheduler.jobs) == {"source-a", "source-b"}


async def test_a_batch_with_an_invalid_config_or_a_repeated_id_applies_nothing(api: Api) -> None:
    bad = [_batch_body("a"), _batch_body("b", enabled="maybe")]
    invalid = await api.http.put("/api/v1/sources", json=bad, headers=AUTH)
    twice = await api.http.put("/api/v1/sources", json=[_batch_body("a"), _batch_body("a")], headers=AUTH)
    too_many = await api.http.put("/api/v1/sources", json=[_batch_body(f"s{i}") for i in range(1001)], headers=AUTH)

    assert invalid.status_code == 422
    assert invalid.json()["detail"]["message"] == "invalid source config(s); nothing was applied"
    assert [e["path"] for e in invalid.json()["detail"]["errors"]] == ["[1].enabled"]
    assert (twice.status_code, twice.json()) == (422, {"detail": "source_id repeated in the batch: a"})
    assert too_many.status_code == 422
    assert api.fakes.sources.current == {}


async def test_the_sources_list_is_paginated_by_id(api: Api) -> None:
    await api.http.put("/api/v1/sources", json=[_batch_body(f"s{i:03d}") for i in range(150)], headers=AUTH)

    default = (await api.http.get("/api/v1/sources", headers=AUTH)).json()
    page = await api.http.get("/api/v1/sources", params={"limit": 30, "after": "s099"}, headers=AUTH)
    too_big = await api.http.get("/api/v1/sources", params={"limit": 1001}, headers=AUTH)

    assert [row["source_id"] for row in default] == [f"s{i:03d}" for i in range(100)]
    assert [row["source_id"] for row in page.json()] == [f"s{i:03d}" for i in range(100, 130)]
    assert too_big.status_code == 422
