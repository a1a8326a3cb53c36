"""``sources apply`` in batches and ``sources list`` page by page, against a fake planner API."""

from __future__ import annotations

import json
from typing import Any

import httpx
from typer.testing import CliRunner

from headwater.config import SourceConfig
from headwater_ops.cli.client import ApiClient
from headwater_ops.cli.main import app
from headwater_ops.cli.source_batches import apply_batches, apply_line, pages


class FakePlanner:
    """``PUT /api/v1/sources`` (answers ``created``, or ``refuse``'s reason for those ids) and
    ``GET /api/v1/sources`` (pages of ``stored`` by id); ``batches`` holds the ids of each PUT."""

    def __init__(self, stored: int = 0, refuse: dict[str, str] | None = None) -> None:
        self.stored = [f"s{i:04d}" for i in range(stored)]
        self.refuse = refuse or {}
        self.batches: list[list[str]] = []
        self.gets: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1.0/invoke/planner/method/api/v1/sources"
        if request.method == "PUT":
            ids = [body["source_id"] for body in json.loads(request.content)]
            self.batches.append(ids)
            return httpx.Response(200, json={"results": [self._result(sid) for sid in ids]})
        params = dict(request.url.params)
        self.gets.append(params)
        after, limit = params.get("after", ""), int(params["limit"])
        rows = [{"source_id": sid} for sid in self.stored if sid > after][:limit]
        return httpx.Response(200, json=rows)

    def _result(self, sid: str) -> dict[str, Any]:
        reason = self.refuse.get(sid)
        if reason == "conflict":
            return {"source_id": sid, "status": None, "version": None, "reason": reason, "error": "lost a race"}
        if reason:
            return {"source_id": sid, "status": "created", "version": 1, "reason": reason, "error": "down"}
        return {"source_id": sid, "status": "created", "version": 1}


def api(planner: FakePlanner) -> ApiClient:
    return ApiClient("http://sidecar/v1.0/invoke/planner/method", "t", transport=httpx.MockTransport(planner))


def configs(count: int) -> list[SourceConfig]:
    return [
        SourceConfig.model_validate({"source_id": f"s{i:04d}", "ingestion": {"mode": "push"}}) for i in range(count)
    ]


def test_configs_go_in_batches_in_order() -> None:
    planner = FakePlanner()
    seen: list[int] = []

    report = apply_batches(api(planner), configs(7), batch_size=3, on_batch=lambda rows: seen.append(len(rows)))

    assert [len(b) for b in planner.batches] == [3, 3, 1] and seen == [3, 3, 1]
    assert [r["source_id"] for r in report.results] == [f"s{i:04d}" for i in range(7)]
    assert report.not_sent == 0 and not (report.conflicts or report.unavailable or report.failed)


def test_the_batches_after_one_with_a_problem_are_not_sent() -> None:
    planner = FakePlanner(refuse={"s0004": "scheduler_unavailable"})

    report = apply_batches(api(planner), configs(10), batch_size=3)

    assert len(planner.batches) == 2 and report.not_sent == 4
    assert [r["source_id"] for r in report.unavailable] == ["s0004"]


def test_each_result_is_one_line() -> None:
    assert apply_line({"source_id": "a", "status": "created", "version": 1}) == "source/a [green]created[/] (version 1)"
    assert apply_line({"source_id": "b", "status": None, "version": None, "reason": "conflict", "error": "x"}) == (
        "source/b [red]not applied[/]: x"
    )
    pending = {"source_id": "c", "status": "updated", "version": 2, "reason": "scheduler_unavailable", "error": "y"}
    assert apply_line(pending).endswith("[red]job not registered[/] (scheduler_unavailable): y")


def test_pages_follow_the_last_id_until_a_page_is_not_full() -> None:
    planner = FakePlanner(stored=5)

    found = list(pages(api(planner), limit=2))

    assert [[r["source_id"] for r in page] for page in found] == [["s0000", "s0001"], ["s0002", "s0003"], ["s0004"]]
    assert planner.gets == [{"limit": "2"}, {"limit": "2", "after": "s0001"}, {"limit": "2", "after": "s0003"}]
    assert list(pages(api(FakePlanner(stored=4)), limit=2, after="s0001")) == [
        [{"source_id": "s0002"}, {"source_id": "s0003"}]
    ]


def test_list_options_are_checked_before_anything_is_sent() -> None:
    for args in (["--limit", "0"], ["--limit", "1001"]):
        result = CliRunner().invoke(app, ["sources", "list", *args, "--api-url", "http://127.0.0.1:9"])
        assert result.exit_code == 2
