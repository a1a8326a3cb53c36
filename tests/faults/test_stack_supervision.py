"""The stack stays up: a killed app or sidecar is restarted by the supervisor, a sidecar holds
messages while its app is down and delivers them when it is back, and name resolution survives
past the expiry of its registrations."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fault_support import Faults, push_source
from integration_support import FakeApi, cli, until
from pymongo import AsyncMongoClient

from headwater_ops.runtime.stack import Stack, StackInfo

pytestmark = [pytest.mark.integration, pytest.mark.faults]

PRICES = "sku,name,price\nK-1,Bolt,1.50\nK-2,Nut,0.20\n"
SOAK_SECONDS = 25.0  # > 10 expiries of a registration (2 s), > 2 compressed cleanups (10 s)


def pull_source(sid: str, base: str) -> str:
    return f"""\
source_id: {sid}
ingestion:
  mode: scheduled_pull
  schedule: "0 3 * * *"
  request:
    base_url: {base}/items
    allow_private_hosts: ["127.0.0.1"]
  retry: {{max_attempts: 3, initial_seconds: 0.2, max_seconds: 1}}
parse: {{format: json, records_path: items}}
map:
  fields: {{sku: sku, name: title}}
store: {{key: [sku], history: scd2}}
"""


def _api(stack: Stack, app_id: str) -> httpx.AsyncClient:
    """The app's API through the planner's sidecar, as the CLI calls it (in process: no start-up delay)."""
    base = f"{stack.apps()['planner'].dapr_url}/v1.0/invoke/{app_id}/method"
    headers = {"authorization": f"Bearer {stack.api_token()}", "dapr-api-token": stack.dapr_api_token() or ""}
    return httpx.AsyncClient(base_url=base, headers=headers, timeout=30)


async def _count(mongo: AsyncMongoClient[Any], runtime: StackInfo, sid: str) -> int:
    return await mongo[runtime.mongodb_database]["records"].count_documents({"source_id": sid})


def _apply(stack: Stack, tmp_path: Path, text: str) -> None:
    (tmp_path / "source.yaml").write_text(text)
    applied = cli(stack, "sources", "apply", "-f", str(tmp_path / "source.yaml"))
    assert applied.returncode == 0, applied.stdout + applied.stderr


async def test_killed_apps_are_restarted_and_messages_published_meanwhile_are_processed(
    stack: Stack, runtime: StackInfo, faults: Faults, mongo: AsyncMongoClient[Any], tmp_path: Path
) -> None:
    """kill -9 the worker, then collection-model; while each is down, a message for it is published
    (an upload for the worker, a triggered run for collection-model). Both are restarted, their
    sidecars healthy, and both messages processed. The two recoveries overlap, so the suite waits
    once for Redis' redelivery of a held message (processingTimeout, see docs/dapr.md)."""
    push, pull = f"sup-w-{uuid.uuid4().hex[:6]}", f"sup-c-{uuid.uuid4().hex[:6]}"
    with FakeApi() as fake:
        items = [{"sku": "C-1", "title": "a"}, {"sku": "C-2", "title": "b"}]
        fake.routes["/items"] = lambda q, h: (200, {"items": items})
        _apply(stack, tmp_path, push_source(push))
        _apply(stack, tmp_path, pull_source(pull, fake.url))
        killed_at = time.monotonic()
        old_worker = await _kill_and_publish(faults, "worker", _upload(stack, push))
        old_collector = await _kill_and_publish(faults, "collection-model", _trigger(stack, pull))

        back = {}
        for app_id, old in (("worker", old_worker), ("collection-model", old_collector)):
            new = await asyncio.to_thread(faults.wait_restarted, app_id, old)
            back[app_id] = time.monotonic() - killed_at
            record = faults.supervised(app_id)
            assert (record["pid"], record["last_exit_code"], record["restarts"] >= 1) == (new, -9, True)
            assert faults.sidecar_healthy(app_id)
        for sid, what in ((push, "the upload held for the worker"), (pull, "the run held for collection-model")):
            assert await until(lambda sid=sid: _is(_count(mongo, runtime, sid), 2), timeout=150), f"{what} was lost"
            print(f"{what}: 2 of 2 records stored {time.monotonic() - killed_at:.1f}s after the first kill")
    print(f"apps back (healthy) after: {', '.join(f'{k} {v:.1f}s' for k, v in back.items())}")


async def _kill_and_publish(faults: Faults, app_id: str, publish: Any) -> int:
    """kill -9 `app_id`; once its sidecar has marked it unhealthy, run `publish` (a message for it)."""
    before = faults.marked_down(app_id)
    old = faults.kill(app_id)
    faults.wait_marked_down(app_id, before)
    response = await publish
    assert response.status_code in (200, 201, 202), response.text
    assert not faults.app_answers(app_id), f"{app_id} was back before the message was published"
    return int(old)


async def _upload(stack: Stack, sid: str) -> httpx.Response:
    async with _api(stack, "collection-model") as api:
        return await api.post(
            f"/api/v1/sources/{sid}/uploads",
            content=PRICES.encode(),
            headers={"content-type": "text/csv", "x-filename": "prices.csv"},
        )


async def _trigger(stack: Stack, sid: str) -> httpx.Response:
    async with _api(stack, "planner") as api:
        return await api.post(f"/api/v1/sources/{sid}/trigger")


async def test_killed_sidecar_is_restarted_and_invocation_and_delivery_work_again(
    stack: Stack, runtime: StackInfo, faults: Faults, mongo: AsyncMongoClient[Any], tmp_path: Path
) -> None:
    killed_at = time.monotonic()
    old = faults.kill("worker", role="daprd")

    new = await asyncio.to_thread(faults.wait_restarted, "worker", old, "daprd")
    recovered = time.monotonic() - killed_at

    async with httpx.AsyncClient(timeout=10, headers=runtime.dapr_headers()) as http:
        via_planner = await http.get(f"{runtime.apps['planner'].dapr_url}/v1.0/invoke/worker/method/healthz")
        from_worker = await http.get(f"{runtime.apps['worker'].dapr_url}/v1.0/invoke/planner/method/healthz")
    assert via_planner.status_code == 200 and via_planner.json()["service"] == "worker"
    assert from_worker.status_code == 200 and from_worker.json()["service"] == "planner"
    record = faults.supervised("worker", "daprd")
    assert (record["pid"], record["last_exit_code"]) == (new, -9)
    # the new sidecar subscribed again: an upload reaches the worker
    sid = f"sup-d-{uuid.uuid4().hex[:6]}"
    _apply(stack, tmp_path, push_source(sid))
    (tmp_path / "prices.csv").write_text(PRICES)
    assert cli(stack, "upload", sid, str(tmp_path / "prices.csv")).returncode == 0
    assert await until(lambda: _is(_count(mongo, runtime, sid), 2), timeout=60)
    print(f"worker daprd kill -9: back and invocable in {recovered:.1f}s")


async def test_name_resolution_survives_past_the_expiry_of_its_registrations(
    stack: Stack, runtime: StackInfo, faults: Faults
) -> None:
    restarts = {(p["app_id"], p["role"]): p["restarts"] for p in stack.supervised()}
    started = time.monotonic()

    async with httpx.AsyncClient(timeout=10, headers=runtime.dapr_headers()) as http:
        while time.monotonic() - started < SOAK_SECONDS:  # keep invoking while registrations expire and renew
            answer = await http.get(f"{runtime.apps['collection-model'].dapr_url}/v1.0/invoke/planner/method/healthz")
            assert answer.status_code == 200, f"invocation failed after {time.monotonic() - started:.0f}s"
            await asyncio.sleep(1.0)
        failures = []
        for caller in runtime.apps.values():
            for callee in runtime.apps:
                url = f"{caller.dapr_url}/v1.0/invoke/{callee}/method/healthz"
                response = await http.get(url)
                # a pair the access-control policies do not allow is refused by the callee's sidecar
                # (403): that too proves the name resolved and the mTLS connection was made
                reached = response.status_code == 200 or (
                    response.status_code == 403 and "access control policy has denied" in response.text
                )
                if not reached:
                    failures.append(f"{caller.app_id} -> {callee}: {response.status_code} {response.text[:120]}")

    assert failures == []
    assert {(p["app_id"], p["role"]): p["restarts"] for p in stack.supervised()} == restarts, "something restarted"
    lost = [log.name for log in stack.log_dir.glob("*.daprd.log") if "Host registration lost" in log.read_text()]
    assert lost == []


async def _is(value: Any, wanted: int) -> bool:
    return await value == wanted
