"""Issue: planner windows, watermarks and run audit — on the real runtime."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from integration_support import FakeApi, cli, until  # type: ignore[import-not-found]
from pymongo import AsyncMongoClient

from headwater_ops.runtime.stack import Stack, StackInfo

pytestmark = pytest.mark.integration


def windowed(sid: str, base: str, start: datetime, schedule: str = "0 3 * * *", cap: int = 24) -> str:
    return f"""\
source_id: {sid}
ingestion:
  mode: scheduled_pull
  schedule: "{schedule}"
  request:
    base_url: {base}/orders
    parameters: {{from: "{{window.from}}", to: "{{window.to}}"}}
    allow_private_hosts: ["127.0.0.1"]
  window: {{cadence: 1h, start: "{start.isoformat()}", slice: 1h, max_slices_per_run: {cap}}}
  retry: {{max_attempts: 2, initial_seconds: 0.1, max_seconds: 0.2}}
parse: {{format: json, records_path: orders}}
store: {{key: [id]}}
"""


def orders(query: dict[str, str], headers: dict[str, str]) -> tuple[int, Any]:
    return 200, {"orders": [{"id": f"{query['from']}", "window_from": query["from"], "window_to": query["to"]}]}


def hour(dt: datetime) -> datetime:
    return dt.replace(minute=0, second=0, microsecond=0)


async def test_job_fires_windows_are_fetched_and_completed_watermark_advances(
    stack: Stack, runtime: StackInfo, tmp_path: Path, mongo: AsyncMongoClient
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"win-{uuid.uuid4().hex[:6]}"
    start = hour(datetime.now(UTC)) - timedelta(hours=3)
    with FakeApi() as api:
        api.routes["/orders"] = orders
        file = tmp_path / "w.yaml"
        file.write_text(windowed(sid, api.url, start, schedule="@every 3s"))
        assert cli(stack, "sources", "apply", "-f", str(file)).returncode == 0

        async def completed() -> Any:
            state = await db["source_state"].find_one({"_id": sid})
            return (
                state
                and state.get("completed_until")
                and state["completed_until"].replace(tzinfo=UTC) == start + timedelta(hours=3)
                and state
            )

        state = await until(completed)
        assert state, await db["source_state"].find_one({"_id": sid})
        assert state["planned_until"].replace(tzinfo=UTC) == start + timedelta(hours=3)
        runs = await db["runs"].find({"source_id": sid, "trigger": "schedule"}).sort("triggered_at", 1).to_list()
        assert runs[0]["task_ids"] == [
            f"{sid}:{(start + timedelta(hours=i)).isoformat()}/{(start + timedelta(hours=i + 1)).isoformat()}"
            for i in range(3)
        ]
        assert all(r["status"] == "skipped" for r in runs[1:])  # later ticks: up to date
        assert sorted(r["query"]["from"] for r in api.requests) == [
            (start + timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%SZ") for i in range(3)
        ]

        status = cli(stack, "sources", "status", sid, "-o", "json")
        data = json.loads(status.stdout)
        assert data["completed_until"] == (start + timedelta(hours=3)).isoformat()
        assert data["lag_seconds"] < 3600
        assert cli(stack, "sources", "delete", sid).returncode == 0


async def test_publish_failure_leaves_watermarks_and_fails_the_run(
    stack: Stack, runtime: StackInfo, tmp_path: Path, mongo: AsyncMongoClient
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"fail-{uuid.uuid4().hex[:6]}"
    file = tmp_path / "f.yaml"
    file.write_text(windowed(sid, "http://127.0.0.1:9", hour(datetime.now(UTC)) - timedelta(hours=2)))
    assert cli(stack, "sources", "apply", "-f", str(file)).returncode == 0
    redis = ["redis-cli", "-p", runtime.redis_address.rsplit(":", 1)[1]]
    # Redis refuses writes (out of memory): every publish of the run fails
    subprocess.run([*redis, "config", "set", "maxmemory", "1"], check=True, capture_output=True)
    try:
        result = cli(stack, "sources", "trigger", sid)
    finally:
        subprocess.run([*redis, "config", "set", "maxmemory", "0"], check=True, capture_output=True)

    assert "failed" in result.stdout, result.stdout + result.stderr
    run = await db["runs"].find_one({"source_id": sid})
    assert run["status"] == "failed" and "publish" in run["error"]
    state = await db["source_state"].find_one({"_id": sid}) or {}
    assert state.get("planned_until") is None and state.get("completed_until") is None
    assert cli(stack, "sources", "delete", sid).returncode == 0


async def test_two_triggers_at_once_plan_the_windows_once(
    stack: Stack, runtime: StackInfo, tmp_path: Path, mongo: AsyncMongoClient
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"twice-{uuid.uuid4().hex[:6]}"
    file = tmp_path / "t.yaml"
    file.write_text(windowed(sid, "http://127.0.0.1:9", hour(datetime.now(UTC)) - timedelta(hours=6)))
    assert cli(stack, "sources", "apply", "-f", str(file)).returncode == 0
    planner = runtime.apps["planner"]
    url = f"{planner.dapr_url}/v1.0/invoke/planner/method/api/v1/sources/{sid}/trigger"
    headers = {"authorization": f"Bearer {stack.api_token()}", "dapr-api-token": stack.dapr_api_token() or ""}
    async with httpx.AsyncClient(headers=headers, timeout=60) as http:
        answers = await asyncio.gather(*(http.post(url) for _ in range(4)))

    outcomes = sorted(a.json()["outcome"] for a in answers)
    assert outcomes.count("planned") == 1 and outcomes.count("skipped") == 3
    runs = await db["runs"].find({"source_id": sid, "status": {"$ne": "skipped"}}).to_list()
    task_ids = [t for r in runs for t in r["task_ids"]]
    assert len(task_ids) == 6 and len(set(task_ids)) == 6
    assert cli(stack, "sources", "delete", sid).returncode == 0


async def test_backfill_plans_every_window_exactly_once(
    stack: Stack, runtime: StackInfo, tmp_path: Path, mongo: AsyncMongoClient
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"back-{uuid.uuid4().hex[:6]}"
    start = datetime(2026, 1, 1, tzinfo=UTC)
    file = tmp_path / "b.yaml"
    file.write_text(windowed(sid, "http://127.0.0.1:9", start, cap=5))
    assert cli(stack, "sources", "apply", "-f", str(file)).returncode == 0

    result = cli(stack, "sources", "backfill", sid, "--from", "2026-01-02T00:00:00Z", "--to", "2026-01-02T12:00:00Z")

    assert result.returncode == 0, result.stderr
    assert "3 run(s), 12 work item(s)" in result.stdout
    runs = await db["runs"].find({"source_id": sid, "trigger": "backfill"}).to_list()
    windows = sorted(w["from"].replace(tzinfo=UTC) for r in runs for w in r["windows"])
    assert windows == [datetime(2026, 1, 2, h, tzinfo=UTC) for h in range(12)]
    assert all(len(r["windows"]) <= 5 for r in runs)
    assert cli(stack, "sources", "delete", sid).returncode == 0
