"""WorkHandler: a work item → a FetchJob from the config version → documents and one result."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from cm_fakes import Harness  # type: ignore[import-not-found]
from cm_server import FakeApi, Seen  # type: ignore[import-not-found]

from collection_model.service_layer.work import PUBLISH_BATCH
from headwater.config import SourceConfig
from headwater.contracts.messages import FetchTask, TaskStatus, TimeWindow

Start = Callable[..., Awaitable[Harness]]
CONFIG = SourceConfig.model_validate(
    {
        "source_id": "weather",
        "ingestion": {
            "schedule": "@hourly",
            "request": {"base_url": "http://api.example.com/obs", "parameters": {"from": "{window.from}"}},
            "iteration": {"foreach": "station", "source_mcp": "m", "source_tool": "t", "concurrency": 2},
            "window": {"cadence": "1h", "start": "2026-01-01T00:00:00Z", "slice": "1h"},
        },
    }
)


def task(source_id: str = "weather") -> FetchTask:
    window = TimeWindow(start=datetime(2026, 1, 1, tzinfo=UTC), end=datetime(2026, 1, 1, 1, tzinfo=UTC))
    return FetchTask(source_id=source_id, config_version=1, task_id="weather:w1", run_id="r1", window=window)


async def test_a_work_item_is_fetched_and_reported(harness: Start) -> None:
    api = FakeApi({"/obs": lambda r: web.json_response({"from": r.query["from"]})})
    h = await harness(api, items=[{"id": "s1"}, {"id": "s2"}, {"id": "s3"}], configs=(CONFIG,))
    result = await h.container.work.handle(task())
    assert result.status is TaskStatus.SUCCEEDED and result.counts["documents"] == 3
    assert h.publisher.keys() == [f"station=s{i}/page-1" for i in (1, 2, 3)]
    assert h.publisher.bulk_calls == 1  # one bulk publish for the batch
    assert {r.query["from"] for r in api.requests} == {"2026-01-01T00:00:00Z"}
    assert h.publisher.results == [result]


async def test_an_unknown_config_is_reported_failed(harness: Start) -> None:
    h = await harness(configs=(CONFIG,))
    result = await h.container.work.handle(task("gone"))
    assert result.status is TaskStatus.FAILED and "no source 'gone'" in (result.error or "")
    assert h.publisher.results == [result] and h.publisher.documents == []


async def test_a_source_without_a_request_cannot_be_processed(harness: Start) -> None:
    push = SourceConfig.model_validate({"source_id": "weather", "ingestion": {"mode": "push"}})
    h = await harness(configs=(push,))
    with pytest.raises(ValueError, match="no request to fetch"):  # the subscription dead-letters it
        await h.container.work.handle(task())


def paged(source_id: str = "prices", **extra: Any) -> SourceConfig:
    """A page-numbered price list (2 per page: a short or empty page ends it), fetched once."""
    request = {
        "base_url": "http://api.example.com/prices",
        "pagination": {"type": "page_number", "size_param": "per_page", "page_size": 2, "records_path": "items"},
        **extra.pop("request", {}),
    }
    ingestion = {"schedule": "@daily", "request": request, "retry": {"max_attempts": 1}, **extra}
    return SourceConfig.model_validate({"source_id": source_id, "ingestion": ingestion})


def pages(skus: list[str], down: set[tuple[str, str]] = frozenset()) -> Callable[[Seen], web.Response]:
    """Pages of ``skus``, two at a time; ``(region or "", page)`` in ``down`` answers 500."""

    def route(r: Seen) -> web.Response:
        page = int(r.query.get("page", "1"))
        if (r.query.get("region", ""), str(page)) in down:
            return web.json_response({"error": "down"}, status=500)
        return web.json_response({"items": [{"sku": s} for s in skus[(page - 1) * 2 : page * 2]]})

    return route


def tick(source_id: str = "prices", run_id: str = "r1") -> FetchTask:
    return FetchTask(source_id=source_id, config_version=1, task_id=f"{source_id}:tick", run_id=run_id)


def ends(h: Harness) -> list[tuple[str, int | None, bool | None]]:
    """Each published document in publish order, with what it says about its task."""
    return [(d.key, d.documents_in_task, d.snapshot_complete) for d in h.publisher.documents]


async def test_the_last_document_says_how_many_the_task_published_and_that_it_was_complete(harness: Start) -> None:
    h = await harness(FakeApi({"/prices": pages(["P1", "P2", "P3", "P4", "P5"])}), configs=(paged(),))
    result = await h.container.work.handle(tick())
    assert result.status is TaskStatus.SUCCEEDED
    assert ends(h) == [("page-1", None, None), ("page-2", None, None), ("page-3", 3, True)]
    assert h.publisher.bulk_calls == 1 and h.events.events == []


async def test_a_large_fan_out_stays_in_bulk_and_ends_on_its_last_document(harness: Start) -> None:
    fan = {"iteration": {"foreach": "region", "source_mcp": "m", "source_tool": "t", "concurrency": 8}}
    config = paged(request={"parameters": {"region": "{item.id}"}}, **fan)
    h = await harness(
        FakeApi({"/prices": pages(["P1"])}),
        items=[{"id": f"r{i}"} for i in range(PUBLISH_BATCH + 20)],
        configs=(config,),
    )
    await h.container.work.handle(tick())
    assert h.publisher.bulk_calls == 2  # a full batch, then the last 20
    *earlier, (_, documents, complete) = ends(h)
    assert (documents, complete) == (PUBLISH_BATCH + 20, True) and len(earlier) == PUBLISH_BATCH + 19
    assert all(d is None and c is None for _, d, c in earlier)


async def test_a_failed_page_makes_the_snapshot_incomplete_and_is_announced(harness: Start) -> None:
    api = FakeApi({"/prices": pages(["P1", "P2", "P3", "P4"], down={("", "2")})})
    h = await harness(api, configs=(paged(),))
    result = await h.container.work.handle(tick())
    assert result.status is TaskStatus.PARTIAL and result.error and result.error.startswith("request: ")
    assert ends(h) == [("page-1", 1, False)]
    [event] = h.events.events
    assert (event.type, event.stage, event.task_id, event.source_id) == (
        "task.failed",
        "fetch",
        "prices:tick",
        "prices",
    )
    assert event.idempotency_key == "task.failed:prices:tick:r1:request"
    assert event.document_id is None and "HTTP 500" in event.error and event.occurred_at == h.clock.now()


async def test_a_failed_item_makes_the_snapshot_incomplete_and_each_failure_is_announced_once(harness: Start) -> None:
    fan = {"iteration": {"foreach": "region", "source_mcp": "m", "source_tool": "t", "concurrency": 2}}
    config = paged(request={"parameters": {"region": "{item.id}"}}, **fan)
    down = {("south", "1"), ("east", "2")}
    h = await harness(
        FakeApi({"/prices": pages(["P1", "P2", "P3"], down)}),
        items=[{"id": "north"}, {"id": "south"}, {"id": "east"}],
        configs=(config,),
    )
    result = await h.container.work.handle(tick())
    assert result.status is TaskStatus.PARTIAL and result.counts["failed"] == 2
    *earlier, last = ends(h)
    assert sorted(k for k, _, _ in ends(h)) == ["region=east/page-1", "region=north/page-1", "region=north/page-2"]
    assert last[1:] == (3, False) and all(e[1:] == (None, None) for e in earlier)
    keys = sorted(e.idempotency_key for e in h.events.events)
    assert keys == ["task.failed:prices:tick:r1:region=east", "task.failed:prices:tick:r1:region=south"]
    assert {e.stage for e in h.events.events} == {"fetch"} and h.events.calls == 1


async def test_a_task_that_published_nothing_only_announces_its_failure(harness: Start) -> None:
    fan = {"iteration": {"foreach": "region", "source_mcp": "m", "source_tool": "t"}}
    h = await harness(configs=(paged(**fan),))
    h.items.error = RuntimeError("MCP app down")
    result = await h.container.work.handle(tick())
    assert result.status is TaskStatus.FAILED and h.publisher.documents == []
    [event] = h.events.events
    assert event.idempotency_key == "task.failed:prices:tick:r1:*" and "MCP app down" in event.error


async def test_an_unknown_config_version_is_announced_as_a_failed_fetch(harness: Start) -> None:
    h = await harness(configs=(CONFIG,))
    await h.container.work.handle(task("gone"))
    [event] = h.events.events
    assert (event.stage, event.idempotency_key) == ("fetch", "task.failed:weather:w1:r1:config")
    assert "no source 'gone'" in event.error


async def test_a_failed_fetch_is_announced_with_its_secrets_masked(harness: Start) -> None:
    key = "sk_live_0123456789abcdef"

    def echo(r: Seen) -> web.Response:  # an API that hands back a cursor holding the key, twice: a loop
        return web.json_response({"items": [{"sku": "P1"}], "next": f"c-{key}"})

    request = {
        "auth_type": "api_key",
        "secret_key": "k",
        "auth_header": "X-API-Key",
        "pagination": {"type": "cursor", "cursor_path": "next", "records_path": "items"},
    }
    h = await harness(FakeApi({"/prices": echo}), secrets={"k": key}, configs=(paged(request=request),))
    await h.container.work.handle(tick())
    [event] = h.events.events
    assert "PaginationLoopError" in event.error and "c-***" in event.error and key not in event.error
    assert ends(h) == [("page-1", None, None), ("page-2", 2, False)]
