"""Issue 13 (planner), on the real runtime: the scheduler stopped across ticks (catch-up
coalesces), a source deleted while the scheduler is down (its job goes anyway), PostgreSQL
stopped during a run (503 with a reason meanwhile; afterwards every run final, watermarks only
over done work, every window done). Each prints counts expected vs stored and time to recover."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fault_support import Faults  # type: ignore[import-not-found]
from integration_support import FakeApi, cli, until  # type: ignore[import-not-found]
from pymongo import AsyncMongoClient

from headwater_ops.runtime.stack import Stack, StackInfo

pytestmark = [pytest.mark.integration, pytest.mark.faults]

OPEN = ("planned", "enqueued")
QUERY_TIME = "%Y-%m-%dT%H:%M:%SZ"
TICK = 5  # seconds between two ticks of the test sources (@every 5s)


def every_source(sid: str, base: str) -> str:
    return f"""\
source_id: {sid}
ingestion:
  mode: scheduled_pull
  schedule: "@every {TICK}s"
  request:
    base_url: {base}/items
    allow_private_hosts: ["127.0.0.1"]
parse: {{format: json, records_path: items}}
store: {{key: [id]}}
"""


def windowed_source(sid: str, base: str, start: datetime) -> str:
    return f"""\
source_id: {sid}
ingestion:
  mode: scheduled_pull
  schedule: "0 3 1 1 *"
  request:
    base_url: {base}/orders
    parameters: {{from: "{{window.from}}", to: "{{window.to}}"}}
    allow_private_hosts: ["127.0.0.1"]
  window: {{cadence: 1h, start: "{start.isoformat()}", slice: 1h, max_attempts: 10, retry_backoff: 1s,
            retry_backoff_max: 4s}}
  retry: {{max_attempts: 1}}
parse: {{format: json, records_path: orders}}
store: {{key: [id]}}
"""


def items(query: dict[str, str], headers: dict[str, str]) -> tuple[int, Any]:
    return 200, {"items": [{"id": "a", "value": 1}, {"id": "b", "value": 2}]}


def orders(query: dict[str, str], headers: dict[str, str]) -> tuple[int, Any]:
    return 200, {"orders": [{"id": query["from"], "n": i} for i in range(3)][:1]}


async def job(http: httpx.AsyncClient, runtime: StackInfo, name: str) -> dict[str, Any] | None:
    response = await http.get(f"{runtime.apps['planner'].dapr_url}/v1.0/jobs/{name}")
    return response.json() if response.status_code == 200 else None


async def all_final(db: Any, sid: str) -> bool:
    return await db["runs"].count_documents({"source_id": sid, "status": {"$in": list(OPEN)}}) == 0


async def test_scheduler_stopped_across_3_ticks_catch_up_makes_one_run(
    stack: Stack, runtime: StackInfo, faults: Faults, tmp_path: Path, mongo: AsyncMongoClient[Any]
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"catchup-{uuid.uuid4().hex[:6]}"
    with FakeApi() as api:
        api.routes["/items"] = items
        (tmp_path / "s.yaml").write_text(every_source(sid, api.url))
        assert cli(stack, "sources", "apply", "-f", str(tmp_path / "s.yaml")).returncode == 0

        async def succeeded_run() -> bool:
            return await db["runs"].count_documents({"source_id": sid, "status": "succeeded"}) > 0

        assert await until(succeeded_run, timeout=60), "the source never ran on its schedule"
        with faults.scheduler_down():
            stopped = datetime.now(UTC)
            await asyncio.sleep(3 * TICK + 1)  # the fault itself: three ticks pass with no scheduler
        restarted = datetime.now(UTC)
        t0 = time.monotonic()

        async def fired_again() -> bool:
            return await db["runs"].count_documents({"source_id": sid, "triggered_at": {"$gt": restarted}}) > 0

        assert await until(fired_again, timeout=60), "no run after the scheduler came back"
        recovered_s = time.monotonic() - t0
        # the catch-up burst and one tick after it: Dapr fires the missed ticks at once on restart
        await until(lambda: _later(restarted + timedelta(seconds=TICK + 1)), timeout=TICK + 3)
        burst = (
            await db["runs"]
            .find({"source_id": sid, "triggered_at": {"$gt": restarted, "$lte": restarted + timedelta(seconds=2)}})
            .to_list()
        )
        during = await db["runs"].count_documents(
            {"source_id": sid, "triggered_at": {"$gt": stopped, "$lte": restarted}}
        )
        assert cli(stack, "sources", "delete", sid).returncode == 0
        assert await until(lambda: all_final(db, sid), timeout=90), "a run stayed open"
        runs = await db["runs"].find({"source_id": sid}).to_list()
        task_ids = [t for r in runs for t in r["task_ids"]]
        print(
            f"\n[catch-up] runs in the burst after restart: {len(burst)} (expected 1), runs while stopped: {during}, "
            f"runs in all: {len(runs)}, distinct task ids {len(set(task_ids))} of {len(task_ids)}, "
            f"first run after restart in {recovered_s:.1f}s, statuses {sorted({r['status'] for r in runs})}"
        )
        assert len(burst) <= 1 and during == 0
        assert len(task_ids) == len(set(task_ids)), "two runs planned the same task"
        assert {r["status"] for r in runs} <= {"succeeded", "skipped"}


async def _later(when: datetime) -> bool:
    return datetime.now(UTC) > when


async def test_a_source_deleted_while_the_scheduler_is_down_loses_its_job(
    stack: Stack,
    runtime: StackInfo,
    faults: Faults,
    tmp_path: Path,
    http: httpx.AsyncClient,
    mongo: AsyncMongoClient[Any],
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"gone-{uuid.uuid4().hex[:6]}"
    with FakeApi() as api:
        api.routes["/items"] = items
        (tmp_path / "s.yaml").write_text(every_source(sid, api.url))
        assert cli(stack, "sources", "apply", "-f", str(tmp_path / "s.yaml")).returncode == 0
        assert await job(http, runtime, f"source-{sid}") is not None
        with faults.scheduler_down():
            deleted = cli(stack, "sources", "delete", sid)
            assert deleted.returncode == 0, deleted.stderr
            assert "job deletion pending" in deleted.stdout, deleted.stdout
            entry = await db["jobs"].find_one({"_id": sid})
            assert entry is not None and entry["pending_delete"] is True
        back = datetime.now(UTC)
        t0 = time.monotonic()

        async def job_gone() -> bool:
            return await job(http, runtime, f"source-{sid}") is None and not await db["jobs"].find_one({"_id": sid})

        assert await until(job_gone, timeout=90), "the job of the deleted source is still registered"
        recovered_s = time.monotonic() - t0
        after = await db["runs"].count_documents({"source_id": sid, "triggered_at": {"$gt": back}})
        print(f"\n[delete] job gone {recovered_s:.1f}s after the scheduler came back; runs after: {after} (expected 0)")
        assert after == 0


async def test_postgres_stopped_30s_during_a_run_every_run_final_every_window_done(
    stack: Stack, runtime: StackInfo, faults: Faults, tmp_path: Path, mongo: AsyncMongoClient[Any]
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"pgdown-{uuid.uuid4().hex[:6]}"
    hours = 24
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours)
    with FakeApi() as api:
        api.routes["/orders"] = orders
        api.delay = 0.3
        (tmp_path / "s.yaml").write_text(windowed_source(sid, api.url, start))
        assert cli(stack, "sources", "apply", "-f", str(tmp_path / "s.yaml")).returncode == 0
        first = cli(stack, "sources", "trigger", sid)
        assert f"planned: {hours} work item(s)" in first.stdout, first.stdout + first.stderr

        async def some_reported() -> bool:
            return await db["task_reports"].count_documents({"source_id": sid}) >= 3

        assert await until(some_reported, timeout=60)
        with faults.postgres_down():
            answer = await until(lambda: _unavailable(stack, sid), timeout=20)
            assert answer, "sources status did not answer 503 with its reason while PostgreSQL was down"
            await asyncio.sleep(30)  # the fault itself: PostgreSQL stays down 30 s
        t0 = time.monotonic()

        async def settled() -> bool:
            cli(stack, "sources", "trigger", sid)  # a later trigger redoes failed windows (after their backoff)
            state = await db["source_state"].find_one({"_id": sid}) or {}
            done = state.get("completed_until")
            complete = bool(done) and done.replace(tzinfo=UTC) >= start + timedelta(hours=hours)
            return complete and await all_final(db, sid)

        assert await until(settled, timeout=240, interval=3), await db["source_state"].find_one({"_id": sid})
        recovered_s = time.monotonic() - t0
        runs = await db["runs"].find({"source_id": sid}).to_list()
        done = await db["completed_windows"].count_documents({"source_id": sid})
        records = await db["records"].count_documents({"source_id": sid})
        failing = await db["failed_windows"].find({"source_id": sid}).to_list()
        print(
            f"\n[postgres] windows expected {hours}, completed {done}, records {records} (expected {hours}); "
            f"runs {len(runs)} {sorted(r['status'] for r in runs)}; failed windows redone "
            f"{sum(w['state'] == 'recovered' for w in failing)} of {len(failing)}; settled {recovered_s:.1f}s "
            f"after PostgreSQL came back; 503 meanwhile: {answer}"
        )
        assert done == hours and records == hours
        assert all(r["status"] not in OPEN for r in runs)
        assert all(w["state"] == "recovered" for w in failing)
        assert cli(stack, "sources", "delete", sid).returncode == 0


async def _unavailable(stack: Stack, sid: str) -> str | None:
    result = await asyncio.to_thread(cli, stack, "sources", "status", sid)
    return result.stderr.strip() if result.returncode == 3 and "store_unavailable" in result.stderr else None
