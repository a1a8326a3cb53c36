"""Issue: failed work retried and visible — a window whose fetch fails is recorded with its
error, planned again (attempt 2) by a later trigger and, once the API answers, completes and
moves ``completed_until``; ``sources status`` shows it failing, then recovered."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from integration_support import FakeApi, cli, until  # type: ignore[import-not-found]
from pymongo import AsyncMongoClient

from headwater_ops.runtime.stack import Stack, StackInfo

pytestmark = pytest.mark.integration

QUERY_TIME = "%Y-%m-%dT%H:%M:%SZ"


def config(sid: str, base: str, start: datetime) -> str:
    return f"""\
source_id: {sid}
ingestion:
  mode: scheduled_pull
  schedule: "0 3 1 1 *"
  request:
    base_url: {base}/orders
    parameters: {{from: "{{window.from}}", to: "{{window.to}}"}}
    allow_private_hosts: ["127.0.0.1"]
  window: {{cadence: 1h, start: "{start.isoformat()}", slice: 1h, max_attempts: 3, retry_backoff: 1s}}
  retry: {{max_attempts: 1}}
parse: {{format: json, records_path: orders}}
store: {{key: [id]}}
"""


def status_json(stack: Stack, sid: str) -> dict[str, Any]:
    result = cli(stack, "sources", "status", sid, "-o", "json")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


async def test_a_failed_window_is_retried_with_attempt_2_and_completes(
    stack: Stack, runtime: StackInfo, tmp_path: Path, mongo: AsyncMongoClient
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"retry-{uuid.uuid4().hex[:6]}"
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    broken = {start.strftime(QUERY_TIME)}  # the first window's fetch answers 500 while it is here

    def orders(query: dict[str, str], headers: dict[str, str]) -> tuple[int, Any]:
        if query["from"] in broken:
            return 500, {"error": "upstream down"}
        return 200, {"orders": [{"id": query["from"], "window_from": query["from"]}]}

    with FakeApi() as api:
        api.routes["/orders"] = orders
        file = tmp_path / "retry.yaml"
        file.write_text(config(sid, api.url, start))
        assert cli(stack, "sources", "apply", "-f", str(file)).returncode == 0
        first = cli(stack, "sources", "trigger", sid)
        assert "planned: 2 work item(s)" in first.stdout, first.stdout + first.stderr

        async def first_run_done() -> Any:
            run = await db["runs"].find_one({"source_id": sid, "trigger": "manual"})
            return run if run and run["status"] == "partial" else None

        run = await until(first_run_done)
        assert run, await db["runs"].find({"source_id": sid}).to_list()
        task_id = f"{sid}:{start.isoformat()}/{(start + timedelta(hours=1)).isoformat()}"
        shown = json.loads(cli(stack, "runs", "show", run["_id"], "-o", "json").stdout)
        assert shown["error"].startswith(f"{task_id}: ") and "500" in shown["error"], shown
        failing = status_json(stack, sid)
        assert failing["completed_until"] == start.isoformat()  # held back by the failed first window
        assert [(w["task_id"], w["state"], w["attempt"]) for w in failing["failing_windows"]] == [
            (task_id, "failing", 1)
        ]
        assert failing["failing_windows"][0]["next_attempt_at"] and "500" in failing["failing_windows"][0]["last_error"]
        print(cli(stack, "sources", "status", sid).stdout)

        broken.clear()  # the API recovers

        async def retried() -> Any:
            answer = cli(stack, "sources", "trigger", sid)  # skipped until the 1s backoff is over
            assert answer.returncode == 0, answer.stderr
            runs = await db["runs"].find({"source_id": sid, "attempts.task_id": task_id}).to_list()
            return runs[0] if runs else None

        retry_run = await until(retried)
        assert retry_run and {"task_id": task_id, "attempt": 2} in retry_run["attempts"], retry_run

        async def completed() -> Any:
            state = await db["source_state"].find_one({"_id": sid}) or {}
            done = state.get("completed_until")
            return done and done.replace(tzinfo=UTC) >= start + timedelta(hours=2)

        assert await until(completed), await db["source_state"].find_one({"_id": sid})
        recovered = status_json(stack, sid)
        assert recovered["failing_windows"] == [] and recovered["dead_windows"] == []
        assert [(w["task_id"], w["state"], w["attempt"]) for w in recovered["recovered_windows"]] == [
            (task_id, "recovered", 2)
        ]
        assert sorted(r["query"]["from"] for r in api.requests).count(start.strftime(QUERY_TIME)) == 2
        print(cli(stack, "sources", "status", sid).stdout)
        assert cli(stack, "sources", "delete", sid).returncode == 0
