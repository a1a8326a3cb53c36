"""Issue: source configs in MongoDB, the CLI, and one Dapr Job per source — on the real runtime."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from integration_support import cli, until  # type: ignore[import-not-found]
from pymongo import AsyncMongoClient

from headwater.contracts.messages import TaskResult
from headwater_ops.runtime.stack import Stack, StackInfo
from planner.adapters.mongo_ledger import MongoTaskLedger

pytestmark = pytest.mark.integration


def source_yaml(source_id: str, schedule: str, enabled: bool = True) -> str:
    return (
        f"source_id: {source_id}\nenabled: {str(enabled).lower()}\ningestion:\n  mode: scheduled_pull\n"
        f'  schedule: "{schedule}"\n  request:\n    base_url: https://api.example.com/{source_id}\n'
    )


async def job(http: httpx.AsyncClient, runtime: StackInfo, name: str) -> dict[str, Any] | None:
    response = await http.get(f"{runtime.apps['planner'].dapr_url}/v1.0/jobs/{name}")
    return response.json() if response.status_code == 200 else None


async def test_apply_stores_registers_fires_replaces_and_deletes(
    stack: Stack, runtime: StackInfo, tmp_path: Path, http: httpx.AsyncClient, mongo: AsyncMongoClient
) -> None:
    sid = f"jobs-{uuid.uuid4().hex[:6]}"
    file = tmp_path / f"{sid}.yaml"
    file.write_text(source_yaml(sid, "@every 2s"))
    db = mongo[runtime.mongodb_database]

    applied = cli(stack, "sources", "apply", "-f", str(file))
    assert applied.returncode == 0, applied.stderr
    assert f"source/{sid} created (version 1)" in applied.stdout
    stored = await db["source_configs"].find_one({"_id": sid})
    assert stored is not None and stored["version"] == 1 and len(stored["config_hash"]) == 64

    registered = await job(http, runtime, f"source-{sid}")
    assert registered is not None and registered["schedule"] == "@every 2s"

    runs = await until(lambda: db["runs"].find({"source_id": sid, "trigger": "schedule"}).to_list())
    assert runs, "the job never fired back at the planner"

    again = cli(stack, "sources", "apply", "-f", str(file))
    assert f"source/{sid} unchanged (version 1)" in again.stdout

    file.write_text(source_yaml(sid, "0 3 * * *"))
    changed = cli(stack, "sources", "apply", "-f", str(file))
    assert f"source/{sid} updated (version 2)" in changed.stdout
    replaced = await job(http, runtime, f"source-{sid}")
    assert replaced is not None and replaced["schedule"] == "0 0 3 * * *"
    data = replaced["data"]["value"] if "value" in replaced.get("data", {}) else replaced["data"]
    assert data["config_version"] == 2

    deleted = cli(stack, "sources", "delete", sid)
    assert deleted.returncode == 0, deleted.stderr
    assert await job(http, runtime, f"source-{sid}") is None
    tombstone = await db["source_configs"].find_one({"_id": sid})
    assert tombstone is not None and tombstone["deleted"] is True and "config" not in tombstone
    assert await db["jobs"].find_one({"_id": sid}) is None


async def test_cli_reports_invalid_files_and_unreachable_server(stack: Stack, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(source_yaml("bad-one", "0 6 * * *") + "colour: blue\n")
    result = cli(stack, "sources", "apply", "-f", str(bad))
    assert result.returncode == 1
    assert f"{bad}:8:1: colour: unknown key 'colour'" in result.stderr

    down = subprocess.run(
        [sys.executable, "-m", "headwater_ops.cli.main", "sources", "list", "--api-url", "http://127.0.0.1:9"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert down.returncode == 3 and "cannot reach the planner" in down.stderr

    wrong = subprocess.run(
        [
            sys.executable,
            "-m",
            "headwater_ops.cli.main",
            "sources",
            "list",
            "--api-url",
            f"{stack.apps()['planner'].dapr_url}/v1.0/invoke/planner/method",
            "--token",
            "nope",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "DAPR_API_TOKEN": stack.dapr_api_token() or ""},  # the sidecar lets it through
    )
    assert wrong.returncode == 1 and "401" in wrong.stderr


async def test_planner_restart_restores_missing_jobs_and_removes_orphans(
    stack: Stack, runtime: StackInfo, tmp_path: Path, http: httpx.AsyncClient, mongo: AsyncMongoClient
) -> None:
    sid = f"sync-{uuid.uuid4().hex[:6]}"
    file = tmp_path / f"{sid}.yaml"
    file.write_text(source_yaml(sid, "0 4 * * *"))
    assert cli(stack, "sources", "apply", "-f", str(file)).returncode == 0
    planner = runtime.apps["planner"]
    # the scheduler lost the job, and an orphan is registered for a source that no longer exists
    await http.delete(f"{planner.dapr_url}/v1.0/jobs/source-{sid}")
    orphan = f"orphan-{uuid.uuid4().hex[:6]}"
    await http.post(
        f"{planner.dapr_url}/v1.0/jobs/source-{orphan}",
        json={"schedule": "0 0 4 * * *", "data": {"source_id": orphan, "config_version": 1}},
    )
    await mongo[runtime.mongodb_database]["jobs"].insert_one(
        {
            "_id": orphan,
            "name": f"source-{orphan}",
            "source_id": orphan,
            "schedule": "0 0 4 * * *",
            "config_version": 1,
            "registered_at": datetime(2026, 1, 1, tzinfo=UTC),
        }
    )
    assert await job(http, runtime, f"source-{sid}") is None

    stack.restart_app("planner")

    assert (await job(http, runtime, f"source-{sid}")) is not None
    assert await job(http, runtime, f"source-{orphan}") is None
    assert await mongo[runtime.mongodb_database]["jobs"].find_one({"_id": orphan}) is None
    listed = cli(stack, "sources", "list", "--all", "-o", "json")
    assert sid in [row["source_id"] for row in json.loads(listed.stdout)]


async def test_a_deleted_source_id_can_be_applied_again(stack: Stack, runtime: StackInfo, tmp_path: Path) -> None:
    sid = f"again-{uuid.uuid4().hex[:6]}"
    file = tmp_path / f"{sid}.yaml"
    file.write_text(source_yaml(sid, "0 4 * * *"))
    assert cli(stack, "sources", "apply", "-f", str(file)).returncode == 0
    assert cli(stack, "sources", "delete", sid).returncode == 0

    file.write_text(source_yaml(sid, "0 5 * * *"))
    again = cli(stack, "sources", "apply", "-f", str(file))

    assert again.returncode == 0, again.stderr
    assert f"source/{sid} created (version 2)" in again.stdout
    old = cli(stack, "sources", "get", sid, "--version", "1", "-o", "json")
    assert old.returncode == 0 and "0 4 * * *" in old.stdout


async def test_a_job_firing_for_an_unknown_source_is_deleted(runtime: StackInfo, http: httpx.AsyncClient) -> None:
    name = f"source-ghost-{uuid.uuid4().hex[:6]}"
    planner = runtime.apps["planner"]
    created = await http.post(f"{planner.dapr_url}/v1.0/jobs/{name}", json={"schedule": "@every 1s", "data": {}})
    assert created.status_code == 204

    async def gone() -> bool:
        return await job(http, runtime, name) is None

    assert await until(gone, timeout=30), "the planner did not delete the job of a source it does not know"


async def test_100_concurrent_reports_at_a_fresh_run_are_all_kept(
    runtime: StackInfo, http: httpx.AsyncClient, mongo: AsyncMongoClient
) -> None:
    """Issue 13: concurrent $addToSet upserts into one document lost 1-3 of 101 reports on FerretDB."""
    db = mongo[runtime.mongodb_database]
    sid, run_id = f"reports-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    task_id = f"{sid}:tick-20260101T000000"
    now = datetime.now(UTC)
    await db["runs"].insert_one(
        {
            "_id": run_id,
            "run_id": run_id,
            "source_id": sid,
            "trigger": "manual",
            "triggered_at": now,
            "status": "enqueued",
            "config_version": 1,
            "windows": [],
            "task_ids": [task_id],
            "counts": {"work_items": 1},
            "error": None,
            "updated_at": now,
            "task_status": [],
            "attempts": [],
        }
    )
    common = {"source_id": sid, "task_id": task_id, "run_id": run_id}
    reports = [{**common, "reporter": "collection-model", "status": "succeeded", "counts": {"documents": 100}}]
    reports += [{**common, "reporter": "worker", "status": "succeeded", "document_key": f"p-{i}"} for i in range(100)]
    publish = f"{runtime.apps['worker'].dapr_url}/v1.0/publish/pubsub/task-results"
    answers = await asyncio.gather(*(http.post(publish, json=r) for r in reports))
    assert {a.status_code for a in answers} == {204}

    async def final() -> dict[str, Any] | None:
        run = await db["runs"].find_one({"_id": run_id})
        return run if run and run["status"] != "enqueued" else None

    run = await until(final, timeout=150)  # a delivery Dapr cancels is redelivered after processingTimeout (60 s)
    stored = await db["task_reports"].count_documents({"task_id": task_id, "run_id": run_id})
    print(f"\n[reports] sent {len(reports)}, stored {stored}, run {run and run['status']}")
    assert stored == 101
    assert run is not None and run["status"] == "succeeded"


async def test_the_ledger_keeps_101_concurrent_reports_of_a_new_task(runtime: StackInfo) -> None:
    """The adapter alone, every report at once on FerretDB: the last to read sees all of them."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(runtime.mongodb_uri, tz_aware=True)
    try:
        ledger = MongoTaskLedger(client[runtime.mongodb_database])
        sid, run_id = f"ledger-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
        common = {"source_id": sid, "task_id": f"{sid}:tick-1", "run_id": run_id}
        fetch = TaskResult.model_validate(
            {**common, "reporter": "collection-model", "status": "succeeded", "counts": {"documents": 100}}
        )
        docs = [
            TaskResult.model_validate({**common, "reporter": "worker", "status": "succeeded", "document_key": f"p-{i}"})
            for i in range(100)
        ]
        progresses = await asyncio.gather(*(ledger.record(r) for r in [fetch, *docs]))
        stored = await client[runtime.mongodb_database]["task_reports"].count_documents({"run_id": run_id})
        complete = [p for p in progresses if p.fetch_status and len(p.document_status) == 100]
        print(f"\n[ledger] 101 concurrent reports, stored {stored}, progresses that saw all {len(complete)}")
        assert stored == 101 and complete
    finally:
        await client.close()


async def test_a_folder_is_applied_in_batches_and_listed_page_by_page(
    stack: Stack, runtime: StackInfo, tmp_path: Path, http: httpx.AsyncClient, mongo: AsyncMongoClient
) -> None:
    tag = uuid.uuid4().hex[:6]
    ids = [f"bulk-{tag}-{i:03d}" for i in range(250)]
    for sid in ids:
        (tmp_path / f"{sid}.yaml").write_text(source_yaml(sid, "0 3 1 1 *"))

    applied = cli(stack, "sources", "apply", "-f", str(tmp_path), "--batch-size", "100")

    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.count("created (version 1)") == 250
    db = mongo[runtime.mongodb_database]
    assert await db["jobs"].count_documents({"_id": {"$in": ids}, "pending_delete": False}) == 250
    for sid in (ids[0], ids[123], ids[-1]):
        registered = await job(http, runtime, f"source-{sid}")
        assert registered is not None and registered["schedule"] == "0 0 3 1 1 *"

    page = cli(stack, "sources", "list", "-o", "json", "--after", f"bulk-{tag}")
    assert [row["source_id"] for row in json.loads(page.stdout)] == ids[:100]
    assert f"--after {ids[99]}" in page.stderr
    every = [row["source_id"] for row in json.loads(cli(stack, "sources", "list", "--all", "-o", "json").stdout)]
    assert every == sorted(every) and set(ids) <= set(every)

    base = f"{runtime.apps['planner'].dapr_url}/v1.0/invoke/planner/method/api/v1/sources"
    auth = {"authorization": f"Bearer {stack.api_token()}"}
    deleted = await asyncio.gather(*(http.delete(f"{base}/{sid}", headers=auth) for sid in ids[:50]))
    assert {response.status_code for response in deleted} == {200}
