"""Snapshots of a paginated source on the real runtime: the last page a task publishes says how
many documents the task published and whether every page was fetched, so the worker closes
a key only when a complete snapshot no longer holds it; a failed fetch is announced as
``task.failed`` (stage ``fetch``) on ``ingestion-events``. Read through MongoDB and the
event subscriber."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from integration_support import FakeApi, cli, until  # type: ignore[import-not-found]
from pymongo import AsyncMongoClient

from headwater_ops.runtime.stack import Stack, StackInfo

pytestmark = pytest.mark.integration


def price_list(prices: dict[str, float], down: frozenset[int] = frozenset()) -> Any:
    """Two products a page, over two pages (``has_more`` ends it); a page in ``down`` answers 500."""
    items = [{"sku": sku, "price": price} for sku, price in prices.items()]

    def route(query: dict[str, str], headers: dict[str, str]) -> tuple[int, Any]:
        page = int(query.get("page", "1"))
        if page in down:
            return 500, {"error": "upstream down"}
        return 200, {"items": items[(page - 1) * 2 : page * 2], "has_more": page < 2}

    return route


def source(sid: str, base: str) -> str:
    return f"""\
source_id: {sid}
ingestion:
  mode: scheduled_pull
  schedule: "0 3 1 1 *"
  request:
    base_url: {base}/prices
    allow_private_hosts: ["127.0.0.1"]
    pagination: {{type: page_number, size_param: per_page, page_size: 2, records_path: items, has_more_path: has_more}}
  retry: {{max_attempts: 2, initial_seconds: 0.1, max_seconds: 0.2}}
parse: {{format: json, records_path: items}}
map:
  fields: {{sku: sku, price: price}}
validate:
  fields:
    price: {{type: number, required: true, min: 0}}
store: {{key: [sku], history: scd2, mode: snapshot}}
"""


class Runs:
    """Triggers a source and waits until the planner closed the run (every result arrived)."""

    def __init__(self, stack: Stack, db: Any, sid: str) -> None:
        self.stack, self.db, self.sid = stack, db, sid

    async def run(self) -> dict[str, Any]:
        before = await self.db["runs"].count_documents({"source_id": self.sid})
        triggered = cli(self.stack, "sources", "trigger", self.sid)
        assert triggered.returncode == 0, triggered.stdout + triggered.stderr

        async def closed() -> Any:
            runs = await self.db["runs"].find({"source_id": self.sid}).sort("triggered_at", -1).to_list()
            done = len(runs) > before and runs[0]["status"] in ("succeeded", "partial", "failed")
            return runs[0] if done else None

        run = await until(closed)
        assert run, await self.db["runs"].find({"source_id": self.sid}).to_list()
        return dict(run)


async def events(http: httpx.AsyncClient, runtime: StackInfo, sid: str, kind: str) -> list[dict[str, Any]]:
    subscriber = runtime.apps["event-subscriber"].invoke_url
    got: list[dict[str, Any]] = (await http.get(f"{subscriber}/events", params={"source": sid, "type": kind})).json()
    return got


async def test_a_complete_snapshot_closes_a_dropped_key_and_a_failed_page_deletes_nothing(
    stack: Stack, runtime: StackInfo, tmp_path: Path, http: httpx.AsyncClient, mongo: AsyncMongoClient
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"snapfetch-{uuid.uuid4().hex[:6]}"

    async def live() -> list[str]:
        found = await db["records"].find({"source_id": sid, "deleted": {"$ne": True}}).to_list()
        return sorted(r["natural_key"] for r in found)

    with FakeApi() as api:
        api.routes["/prices"] = price_list({"P1": 1.0, "P2": 2.0, "P3": 3.0, "P4": 4.0})
        file = tmp_path / "snap.yaml"
        file.write_text(source(sid, api.url))
        applied = cli(stack, "sources", "apply", "-f", str(file))
        assert applied.returncode == 0, applied.stderr
        runs = Runs(stack, db, sid)

        first = await runs.run()
        assert first["status"] == "succeeded", first
        assert await until(lambda: _equal(live, ["P1", "P2", "P3", "P4"])), await live()

        # run 2: P3 is gone; page 1 is unchanged (a duplicate), page 2 is short of P3
        api.routes["/prices"] = price_list({"P1": 1.0, "P2": 2.0, "P4": 4.0})
        second = await runs.run()
        assert second["status"] == "succeeded", second

        async def closed() -> Any:
            return await db["records"].find_one({"_id": f"{sid}:P3", "deleted": True})

        stone = await until(closed)
        assert stone and stone["is_current"] is False, await db["records"].find_one({"_id": f"{sid}:P3"})
        assert await live() == ["P1", "P2", "P4"]

        async def announced() -> list[dict[str, Any]]:
            return [e for e in await events(http, runtime, sid, "records.changed") if e.get("deleted")]

        deletions = await until(announced)
        assert [e["deleted"] for e in deletions] == [["P3"]], deletions
        assert deletions[0]["dataset_version"] == stone["dataset_version"]

        # run 3: page 1 changes (P1's price, P2 gone), page 2 fails: an incomplete snapshot deletes nothing
        api.routes["/prices"] = price_list({"P1": 1.5, "P4": 4.0}, down=frozenset({2}))
        third = await runs.run()
        assert third["status"] in ("partial", "failed"), third
        p1 = await db["records"].find_one({"_id": f"{sid}:P1"})
        assert p1["data"]["price"] == 1.5 and p1["version"] == 2  # page 1 was processed
        assert await live() == ["P1", "P2", "P4"]  # P2 kept: the snapshot was not complete

        async def failed() -> list[dict[str, Any]]:
            return await events(http, runtime, sid, "task.failed")

        [event] = await until(failed)
        assert (event["stage"], event["cloudevent_type"]) == ("fetch", "task.failed"), event
        assert event["idempotency_key"] == f"task.failed:{event['task_id']}:{third['_id']}:request"
        assert "HTTP 500" in event["error"] and event["task_id"].startswith(f"{sid}:")
        assert len(await events(http, runtime, sid, "records.changed")) >= 2
        assert [e for e in await announced() if e["deleted"] != ["P3"]] == []  # no other deletion

        # run 4: P3 is back: the tombstone is replaced by a live current document (v3)
        api.routes["/prices"] = price_list({"P1": 1.5, "P3": 3.5, "P4": 4.0})
        await runs.run()

        async def back() -> dict[str, Any] | None:
            return await db["records"].find_one({"_id": f"{sid}:P3", "deleted": {"$ne": True}})

        revived = await until(back)
        assert (revived["version"], revived["is_current"], revived["data"]["price"]) == (3, True, 3.5), revived
        assert "deleted" not in revived and "valid_to" not in revived, revived


async def test_each_failed_item_of_a_fan_out_is_announced_once(
    stack: Stack, runtime: StackInfo, tmp_path: Path, http: httpx.AsyncClient, mongo: AsyncMongoClient
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"fanfail-{uuid.uuid4().hex[:6]}"
    with FakeApi() as api:
        for i in range(1, 13):  # each region its own body (raw documents are keyed by content)
            status = 500 if i in (3, 7) else 200
            api.routes[f"/weather/r{i:02d}"] = (lambda n, s: lambda q, h: (s, {"region": n, "t": 20}))(i, status)
        file = tmp_path / "fan.yaml"
        file.write_text(f"""\
source_id: {sid}
ingestion:
  mode: scheduled_pull
  schedule: "0 3 1 1 *"
  request:
    base_url: {api.url}
    path: /weather/{{item.id}}
    allow_private_hosts: ["127.0.0.1"]
  iteration: {{foreach: region, source_mcp: plantation-mcp, source_tool: list_active_regions, concurrency: 4}}
  retry: {{max_attempts: 1}}
""")
        assert cli(stack, "sources", "apply", "-f", str(file)).returncode == 0
        run = await Runs(stack, db, sid).run()
        assert run["status"] == "partial", run

        async def failed() -> list[dict[str, Any]]:
            got = await events(http, runtime, sid, "task.failed")
            return got if len(got) >= 2 else []

        got = await until(failed)
        units = sorted(e["idempotency_key"].rsplit(":", 1)[1] for e in got)
        assert units == ["region=r03", "region=r07"], got
        assert {(e["stage"], e["cloudevent_type"]) for e in got} == {("fetch", "task.failed")}
        assert await db["raw_documents"].count_documents({"source_id": sid}) == 10


async def _equal(fn: Any, value: Any) -> bool:
    return bool(await fn() == value)
