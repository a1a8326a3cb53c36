"""An incremental source on the real runtime (``ingestion.incremental``): each fetch sends the
highest ``updated_at`` stored so far, minus ``lag``, as ``?since=``; the first sends
``initial_value``. A local API returns only the orders updated after ``since``; three triggered
runs, with new orders (and a late writer inside the lag) between them."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from integration_support import FakeApi, cli, until  # type: ignore[import-not-found]
from pymongo import AsyncMongoClient

from headwater_ops.runtime.stack import Stack, StackInfo
from planner.adapters.mongo_planning import MongoStateRepository
from planner.domain.cursor import stored_cursor

pytestmark = pytest.mark.integration

INITIAL = "2026-01-01T00:00:00Z"


class Orders:
    """The API's orders; ``route`` answers those updated after ``since`` and records each ``since``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.orders: list[dict[str, Any]] = []
        self.since: list[str | None] = []

    def add(self, order_id: str, updated_at: str, total: float) -> None:
        with self.lock:
            self.orders.append({"order_id": order_id, "updated_at": updated_at, "total": total})

    def route(self, query: dict[str, str], headers: dict[str, str]) -> tuple[int, Any]:
        since = query.get("since")
        with self.lock:
            self.since.append(since)
            if since is None:
                return 400, {"error": "since is required"}
            after = datetime.fromisoformat(since)
            return 200, {"orders": [o for o in self.orders if datetime.fromisoformat(o["updated_at"]) > after]}


def config(sid: str, base: str) -> str:
    return f"""\
source_id: {sid}
ingestion:
  mode: scheduled_pull
  schedule: "0 3 1 1 *"
  request:
    base_url: {base}/orders
    allow_private_hosts: ["127.0.0.1"]
  retry: {{max_attempts: 2, initial_seconds: 0.1, max_seconds: 0.2}}
  incremental:
    cursor_path: updated_at
    param: since
    initial_value: "{INITIAL}"
    lag: 5m
parse: {{format: json, records_path: orders}}
validate:
  fields:
    updated_at: {{type: string, required: true}}
store: {{key: [order_id], history: scd2}}
"""


class Source:
    """Triggers the source with the CLI and waits until its run is closed and its cursor is ``expected``."""

    def __init__(self, stack: Stack, db: Any, sid: str) -> None:
        self.stack, self.db, self.sid = stack, db, sid

    async def run(self, expected_cursor: str) -> dict[str, Any]:
        before = await self.db["runs"].count_documents({"source_id": self.sid})
        triggered = cli(self.stack, "sources", "trigger", self.sid)
        assert triggered.returncode == 0, triggered.stdout + triggered.stderr

        async def closed() -> Any:
            runs = await self.db["runs"].find({"source_id": self.sid}).sort("triggered_at", -1).to_list()
            done = len(runs) > before and runs[0]["status"] in ("succeeded", "partial", "failed")
            return runs[0] if done else None

        run = await until(closed)
        assert run and run["status"] == "succeeded", await self.db["runs"].find({"source_id": self.sid}).to_list()
        cursor = await until(lambda: self._cursor(expected_cursor))
        assert cursor, await self.db["source_state"].find_one({"_id": self.sid})
        return dict(run)

    async def _cursor(self, expected: str) -> Any:
        state = await self.db["source_state"].find_one({"_id": self.sid}) or {}
        cursor = state.get("cursor") or {}
        return cursor if cursor.get("value") == expected else None

    async def records(self) -> dict[str, tuple[str, int]]:
        found = await self.db["records"].find({"source_id": self.sid}).to_list()
        return {r["natural_key"]: (r["data"]["updated_at"], r["version"]) for r in found}


async def test_each_run_asks_for_what_changed_since_the_highest_stored_cursor_minus_lag(
    stack: Stack, runtime: StackInfo, tmp_path: Path, mongo: AsyncMongoClient
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"incr-{uuid.uuid4().hex[:6]}"
    orders = Orders()
    orders.add("O1", "2026-01-02T10:00:00Z", 10.0)
    orders.add("O2", "2026-01-03T12:00:00Z", 20.0)
    with FakeApi() as api:
        api.routes["/orders"] = orders.route
        file = tmp_path / "incremental.yaml"
        file.write_text(config(sid, api.url))
        applied = cli(stack, "sources", "apply", "-f", str(file))
        assert applied.returncode == 0, applied.stdout + applied.stderr
        source = Source(stack, db, sid)

        # run 1: no cursor stored yet, so the initial value, as it is
        await source.run(expected_cursor="2026-01-03T12:00:00Z")
        assert orders.since == [INITIAL]
        assert await source.records() == {"O1": ("2026-01-02T10:00:00Z", 1), "O2": ("2026-01-03T12:00:00Z", 1)}

        # run 2: run 1's highest minus 5m; a late writer inside the lag (O3) and a new order (O4)
        orders.add("O3", "2026-01-03T11:58:00Z", 30.0)
        orders.add("O4", "2026-01-04T09:00:00Z", 40.0)
        await source.run(expected_cursor="2026-01-04T09:00:00Z")
        assert orders.since == [INITIAL, "2026-01-03T11:55:00Z"]
        stored = await source.records()
        assert stored["O3"] == ("2026-01-03T11:58:00Z", 1) and stored["O4"] == ("2026-01-04T09:00:00Z", 1)
        assert stored["O2"] == ("2026-01-03T12:00:00Z", 1)  # fetched again within the lag: unchanged, no new version

        # run 3: run 2's highest minus 5m; one new order
        orders.add("O5", "2026-01-05T08:00:00Z", 50.0)
        await source.run(expected_cursor="2026-01-05T08:00:00Z")
        assert orders.since == [INITIAL, "2026-01-03T11:55:00Z", "2026-01-04T08:55:00Z"]
        assert sorted(await source.records()) == ["O1", "O2", "O3", "O4", "O5"]

    shown = cli(stack, "sources", "status", sid, "-o", "json")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    cursor = json.loads(shown.stdout)["cursor"]
    assert (cursor["value"], cursor["next_start"], cursor["next_start_from"]) == (
        "2026-01-05T08:00:00Z",
        "2026-01-05T08:00:00Z",
        "cursor",
    )
    table = cli(stack, "sources", "status", sid)
    assert (
        "updated_at: 2026-01-05T08:00:00Z" in table.stdout
        and "?since=2026-01-05T08:00:00Z minus lag 5m" in table.stdout
    )


async def test_the_cursor_moves_only_forward_within_its_kind_on_the_real_database(
    runtime: StackInfo, mongo: AsyncMongoClient
) -> None:
    """The planner's conditional update on FerretDB: a late, older cursor changes nothing (the
    upsert meets the existing document: a duplicate key, read as "not newer"); another kind replaces."""
    state = MongoStateRepository(mongo[runtime.mongodb_database])
    sid, now = f"incr-db-{uuid.uuid4().hex[:6]}", datetime.fromisoformat("2026-03-01T00:00:00+00:00")

    async def advance(value: str | int | float, task: str) -> bool:
        cursor = stored_cursor(value, now, task)
        assert cursor is not None
        return await state.advance_cursor(sid, cursor)

    assert await advance("2026-01-03T12:00:00+01:00", "t1")  # no state yet: inserted
    assert not await advance("2026-01-03T10:59:59.999999Z", "t0")  # older
    assert not await advance("2026-01-03T11:00:00Z", "t1")  # the same time, written otherwise
    assert await advance("2026-01-03T11:00:00.000001Z", "t2")
    stored = (await state.get(sid)).cursor
    assert stored is not None and (stored.value, stored.task_id) == ("2026-01-03T11:00:00.000001Z", "t2")

    assert await advance(9, "t3")  # the config made it numeric: starts over
    assert await advance(10.5, "t4") and not await advance(10, "t5") and await advance(11, "t6")
    stored = (await state.get(sid)).cursor
    assert stored is not None and (stored.value, stored.kind, stored.task_id) == (11, "number", "t6")
