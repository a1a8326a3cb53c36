"""Scale-out on the real runtime, as Kubernetes runs it: two replicas each of collection-model
and worker (the same app id, each replica its own process and sidecar: `headwater up --replicas`).

A windowed run (24 work items) and a batch of uploads are split across the replicas (each
replica's log shows its share), and every record is stored exactly once with one event per
document; then one worker replica is killed -9 mid-run and nothing is lost: what it held is
redelivered by Redis to the other replica (or to itself once restarted) after the
`processingTimeout` (15 s on this stack, as on the fault stack). The stack is this module's own
(instance `<faults instance>-scale`, ports + 800 beyond the fault stack's)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fault_support import PUBSUB_OVERRIDES, push_source  # type: ignore[import-not-found]
from integration_support import FakeApi, cli, until  # type: ignore[import-not-found]
from pymongo import AsyncMongoClient
from test_worker_faults import (  # type: ignore[import-not-found]
    HOURS,
    PER_WINDOW,
    assert_change_log_complete,
    assert_exactly_once,
    assert_nothing_open,
    orders,
    windowed_source,
)

from headwater_ops.runtime.procs import StartError
from headwater_ops.runtime.settings import RuntimeSettings
from headwater_ops.runtime.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.faults]

REPLICAS = {"collection-model": 2, "worker": 2}
UPLOADS, ROWS = 8, 500


@pytest.fixture(scope="module")
def scaled() -> Iterator[Stack]:
    settings = RuntimeSettings(
        instance=os.environ.get("HEADWATER_TEST_INSTANCE", "faults") + "-scale",
        port_offset=int(os.environ.get("HEADWATER_TEST_PORT_OFFSET", "600")) + 800,  # clear of dev, test, bench
        persistent=False,
        start_timeout_seconds=120,
        pubsub=PUBSUB_OVERRIDES,
        replicas=REPLICAS,
    )
    stack = Stack(settings, report=lambda msg: print(f"[runtime] {msg}"))
    stack.down(quiet=True)
    shutil.rmtree(settings.instance_dir, ignore_errors=True)
    try:
        stack.up()
    except (StartError, ValueError) as exc:
        stack.down(quiet=True)
        pytest.fail(f"the scaled-out stack could not start: {exc}", pytrace=False)
    yield stack
    stack.down(quiet=True)


@pytest.fixture
async def db(scaled: Stack) -> AsyncIterator[Any]:
    info = scaled.info()
    client: AsyncMongoClient[Any] = AsyncMongoClient(info.mongodb_uri, serverSelectionTimeoutMS=10_000)
    yield client[info.mongodb_database]
    await client.close()


def shares(stack: Stack, app_id: str, line: str) -> dict[str, int]:
    """How often each replica of `app_id` logged `line` (its share of the work)."""
    names = [ep.name for ep in stack.endpoints() if ep.app_id == app_id]
    return {n: (stack.log_dir / f"{n}.app.log").read_text(errors="replace").count(line) for n in names}


def _apply(stack: Stack, tmp_path: Path, text: str) -> None:
    (tmp_path / "s.yaml").write_text(text)
    applied = cli(stack, "sources", "apply", "-f", str(tmp_path / "s.yaml"))
    assert applied.returncode == 0, applied.stdout + applied.stderr


async def _stored(db: Any, sid: str) -> int:
    return int(await db["records"].count_documents({"source_id": sid}))


def published(stack: Stack, sid: str) -> Counter[tuple[str, str]]:
    """(type, CloudEvent id) of every event of `sid` in the Redis stream `ingestion-events`, as
    published (subscribers drop repeats by id, so duplicates are counted here, at the source)."""
    out = subprocess.run(
        ["redis-cli", "-p", str(stack.ports.redis), "--raw", "XRANGE", "ingestion-events", "-", "+"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    seen: Counter[tuple[str, str]] = Counter()
    for line in out.splitlines():
        if line.startswith("{") and sid in line:
            event = json.loads(line)
            if (event.get("data") or {}).get("source_id") == sid:
                seen[(event["type"], event["id"])] += 1
    return seen


def _keys(start: datetime) -> set[str]:
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    return {f"{(start + timedelta(hours=h)).strftime(stamp)}#{n}" for h in range(HOURS) for n in range(PER_WINDOW)}


async def test_a_run_and_uploads_are_split_across_replicas_exactly_once(scaled: Stack, db: Any, tmp_path: Path) -> None:
    sid, push = f"scale-{uuid.uuid4().hex[:6]}", f"scale-up-{uuid.uuid4().hex[:6]}"
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS)
    fetched0, stored0 = shares(scaled, "collection-model", "task fetched"), shares(scaled, "worker", "document stored")
    with FakeApi() as api:
        api.routes["/orders"] = orders
        api.delay = 0.3
        _apply(scaled, tmp_path, windowed_source(sid, api.url, start))
        _apply(scaled, tmp_path, push_source(push))
        began = time.monotonic()
        assert f"planned: {HOURS} work item(s)" in cli(scaled, "sources", "trigger", sid).stdout
        for i in range(UPLOADS):
            rows = "".join(f"U{i}-{n:04d},item {n},{n % 100 / 10}\n" for n in range(ROWS))
            (tmp_path / f"prices-{i}.csv").write_text("sku,name,price\n" + rows)
            assert cli(scaled, "upload", push, str(tmp_path / f"prices-{i}.csv")).returncode == 0

        async def done() -> bool:
            return await _stored(db, sid) == HOURS * PER_WINDOW and await _stored(db, push) == UPLOADS * ROWS

        assert await until(done, timeout=180, interval=0.5), (await _stored(db, sid), await _stored(db, push))
        wall = time.monotonic() - began
    fetched = {k: v - fetched0[k] for k, v in shares(scaled, "collection-model", "task fetched").items()}
    stored = {k: v - stored0[k] for k, v in shares(scaled, "worker", "document stored").items()}
    print(
        f"\n[scale-out] {HOURS} work items fetched by {fetched}; "
        f"{HOURS + UPLOADS} documents stored by {stored}; {wall:.1f}s"
    )
    assert sum(fetched.values()) == HOURS and all(n > 0 for n in fetched.values()), fetched
    assert sum(stored.values()) == HOURS + UPLOADS and all(n > 0 for n in stored.values()), stored
    await assert_exactly_once(db, sid, _keys(start))
    await assert_exactly_once(db, push, {f"U{i}-{n:04d}" for i in range(UPLOADS) for n in range(ROWS)})
    await assert_nothing_open(db, [sid, push])
    assert await assert_change_log_complete(db, sid) == HOURS

    events = published(scaled, sid)
    assert max(events.values()) == 1, [k for k, n in events.items() if n > 1][:3]
    assert sum(1 for kind, _ in events if kind == "document.stored") == HOURS


async def test_one_worker_replica_killed_mid_run_loses_nothing(scaled: Stack, db: Any, tmp_path: Path) -> None:
    sid = f"scale-kill-{uuid.uuid4().hex[:6]}"
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS)
    expected = HOURS * PER_WINDOW
    with FakeApi() as api:
        api.routes["/orders"] = orders
        api.delay = 0.5
        _apply(scaled, tmp_path, windowed_source(sid, api.url, start))
        assert f"planned: {HOURS} work item(s)" in cli(scaled, "sources", "trigger", sid).stdout

        async def some() -> bool:
            return 0 < await _stored(db, sid) < expected

        assert await until(some, timeout=60, interval=0.05), "no record stored before the kill"
        victim = scaled.app_pid("worker", replica=1)
        os.kill(victim, 9)
        killed, at_kill = time.monotonic(), await _stored(db, sid)

        async def settled() -> bool:
            open_runs = await db["runs"].count_documents(
                {"source_id": sid, "status": {"$nin": ["succeeded", "failed", "partial", "skipped"]}}
            )
            heads = await db["stream_heads"].count_documents({"source_id": sid, "status": "processing"})
            return await _stored(db, sid) == expected and open_runs == 0 and heads == 0

        ok = await until(settled, timeout=150, interval=0.5)
        recovered = time.monotonic() - killed
    restarted = scaled.app_pid("worker", replica=1)
    print(
        f"\n[scale-out kill] worker-1 killed with {at_kill} of {expected} records stored; stored "
        f"{await _stored(db, sid)} of {expected}, settled {recovered:.1f}s after the kill; worker-1 restarted "
        f"({victim} -> {restarted})"
    )
    assert ok, f"not settled: {await _stored(db, sid)} of {expected}"
    assert restarted != victim
    await assert_exactly_once(db, sid, _keys(start))
    await assert_nothing_open(db, [sid])
