"""WorkHandler: a work item → a FetchJob from the config version → documents and one result."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from cm_fakes import FakeApi, build  # type: ignore[import-not-found]

from collection_model.service_layer.work import WorkHandler
from headwater.config import SourceConfig
from headwater.contracts.messages import FetchTask, TaskResult, TaskStatus, TimeWindow

CONFIG = SourceConfig.model_validate(
    {
        "source_id": "weather",
        "ingestion": {
            "schedule": "@hourly",
            "request": {"base_url": "https://api.example.com/obs", "parameters": {"from": "{window.from}"}},
            "iteration": {"foreach": "station", "source_mcp": "m", "source_tool": "t", "concurrency": 2},
            "window": {"cadence": "1h", "start": "2026-01-01T00:00:00Z", "slice": "1h"},
        },
    }
)


class Configs:
    async def get(self, source_id: str, version: int) -> SourceConfig:
        if source_id != "weather":
            raise LookupError(f"no source {source_id!r}")
        return CONFIG


class Published:
    def __init__(self) -> None:
        self.documents: list[tuple[str, dict[str, Any]]] = []
        self.results: list[TaskResult] = []

    async def publish_document(
        self, task: FetchTask, key: str, content: bytes, ct: str, linkage: dict[str, Any]
    ) -> None:
        self.documents.append((key, linkage))

    async def publish_documents(self, task: FetchTask, docs: list[tuple[str, bytes, str, dict[str, Any]]]) -> None:
        self.documents += [(key, linkage) for key, _, _, linkage in docs]

    async def publish_result(self, result: TaskResult) -> None:
        self.results.append(result)


def task(source_id: str = "weather") -> FetchTask:
    window = TimeWindow(start=datetime(2026, 1, 1, tzinfo=UTC), end=datetime(2026, 1, 1, 1, tzinfo=UTC))
    return FetchTask(source_id=source_id, config_version=1, task_id="weather:w1", run_id="r1", window=window)


async def test_a_work_item_is_fetched_and_reported() -> None:
    api = FakeApi({"/obs": lambda r: httpx.Response(200, json={"from": r.url.params["from"]})})
    h = build(api, items=[{"id": "s1"}, {"id": "s2"}, {"id": "s3"}])
    published = Published()
    result = await WorkHandler(Configs(), h.service, published).handle(task())
    assert result.status is TaskStatus.SUCCEEDED and result.counts["documents"] == 3
    assert sorted(key for key, _ in published.documents) == [f"station=s{i}/page-1" for i in (1, 2, 3)]
    assert {r.url.params["from"] for r in api.requests} == {"2026-01-01T00:00:00Z"}
    assert published.results == [result]


async def test_an_unknown_config_is_reported_failed() -> None:
    published = Published()
    result = await WorkHandler(Configs(), build().service, published).handle(task("gone"))
    assert result.status is TaskStatus.FAILED and "no source 'gone'" in (result.error or "")
