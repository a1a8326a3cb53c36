"""WorkHandler: a work item → a FetchJob from the config version → documents and one result."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from aiohttp import web
from cm_fakes import Harness  # type: ignore[import-not-found]
from cm_server import FakeApi  # type: ignore[import-not-found]

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
