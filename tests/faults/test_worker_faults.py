"""Issue 13 (worker, collection-model, Redis), on the real runtime: the worker killed -9 during a
large upload (and an upload made while it is down) and mid-batch of a paginated pull;
collection-model killed -9 mid-fan-out; Redis killed -9 and restarted while documents flow.

Each settles with no operator action and then asserts: every expected record stored exactly once
(the expected natural keys, each at version 1, no closed version), no raw document or stream head
left `processing`, every run final (a failed one with its reason), each dataset version's change
log naming exactly the records it wrote, every dead letter listed by `headwater dlq list`; and
prints counts expected vs stored and the time to recover. A message in flight when an app dies is
held by Redis and redelivered after its `processingTimeout` (60 s committed, swept every 30 s:
docs/dapr.md; 15 s / 5 s on the fault stack, conftest), so each kill costs that wait, polled."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fault_support import Faults, push_source  # type: ignore[import-not-found]
from integration_support import FakeApi, cli, until  # type: ignore[import-not-found]
from pymongo import AsyncMongoClient

from headwater_ops.runtime.stack import Stack, StackInfo

pytestmark = [pytest.mark.integration, pytest.mark.faults]

OPEN = ("planned", "enqueued")
SETTLE_S = 180.0  # a held message comes back 60-90 s after the kill; the rest is processing
UPLOAD_ROWS = 30_000
SMALL_ROWS = 10
PAGE = 1000
PAGED_RECORDS = 11_500  # 12 pages, the last one short
REGIONS = [f"r{i:02d}" for i in range(1, 13)]  # plantation-mcp's list_active_regions
REGION_RECORDS, REGION_PAGE = 450, 100  # 5 pages a region, the last one short
HOURS, PER_WINDOW = 24, 100  # one trigger plans at most 24 windows
REDIS_DOWN_S = 5.0


# ---------------------------------------------------------------------------------------- sources
def paged_source(sid: str, base: str) -> str:
    return f"""\
source_id: {sid}
ingestion:
  mode: scheduled_pull
  schedule: "0 3 1 1 *"
  request:
    base_url: {base}/items
    allow_private_hosts: ["127.0.0.1"]
    pagination: {{type: page_number, size_param: per_page, page_size: {PAGE}, records_path: items}}
  retry: {{max_attempts: 3, initial_seconds: 0.2, max_seconds: 1}}
parse: {{format: json, records_path: items}}
store: {{key: [id], history: scd2}}
"""


def fanout_source(sid: str, base: str) -> str:
    return f"""\
source_id: {sid}
ingestion:
  mode: scheduled_pull
  schedule: "0 3 1 1 *"
  request:
    base_url: {base}
    path: /regions/{{item.id}}
    allow_private_hosts: ["127.0.0.1"]
    pagination: {{type: page_number, size_param: per_page, page_size: {REGION_PAGE}, records_path: items}}
  iteration: {{foreach: region, source_mcp: plantation-mcp, source_tool: list_active_regions, concurrency: 2}}
  retry: {{max_attempts: 3, initial_seconds: 0.2, max_seconds: 1}}
parse: {{format: json, records_path: items}}
store: {{key: [region, n], history: scd2}}
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
  retry: {{max_attempts: 3, initial_seconds: 0.2, max_seconds: 1}}
parse: {{format: json, records_path: orders}}
store: {{key: [id], history: scd2}}
"""


def prices_csv(prefix: str, rows: int) -> str:
    return "sku,name,price\n" + "".join(f"{prefix}{i:06d},item {i},{i % 1000 / 10}\n" for i in range(rows))


def paged(records: list[dict[str, Any]]) -> Any:
    def route(query: dict[str, str], headers: dict[str, str]) -> tuple[int, Any]:
        page, size = int(query.get("page", "1")), int(query.get("per_page", str(PAGE)))
        return 200, {"items": records[(page - 1) * size : page * size]}

    return route


def orders(query: dict[str, str], headers: dict[str, str]) -> tuple[int, Any]:
    return 200, {"orders": [{"id": f"{query['from']}#{n}", "n": n} for n in range(PER_WINDOW)]}


# ---------------------------------------------------------------------------------------- helpers
def _apply(stack: Stack, tmp_path: Path, text: str) -> None:
    (tmp_path / "source.yaml").write_text(text)
    applied = cli(stack, "sources", "apply", "-f", str(tmp_path / "source.yaml"))
    assert applied.returncode == 0, applied.stdout + applied.stderr


def _delete(stack: Stack, *sids: str) -> None:
    for sid in sids:
        deleted = cli(stack, "sources", "delete", sid)
        assert deleted.returncode == 0, deleted.stdout + deleted.stderr


async def _count(db: Any, sid: str) -> int:
    return int(await db["records"].count_documents({"source_id": sid}))


async def _kill_when_part_stored(db: Any, faults: Faults, app_id: str, sid: str, expected: int) -> tuple[int, int]:
    """kill -9 `app_id` once some but not all of `sid`'s records are stored: (old pid, stored at the kill)."""
    stored = await until(lambda: _between(db, sid, expected), timeout=90, interval=0.05)
    assert stored, f"no record of {sid} stored before the kill"
    pid = faults.kill(app_id)
    at_kill = await _count(db, sid)
    assert at_kill < expected, f"{app_id} finished {sid} before the kill ({at_kill}): make the workload larger"
    return pid, at_kill


async def _between(db: Any, sid: str, expected: int) -> int:
    n = await _count(db, sid)
    return n if 0 < n < expected else 0


async def _open_work(db: Any, sids: list[str]) -> int:
    """Documents or stream heads still `processing`, and runs not final."""
    processing = {"source_id": {"$in": sids}, "status": "processing"}
    return (
        await db["raw_documents"].count_documents(processing)
        + await db["stream_heads"].count_documents(processing)
        + await db["runs"].count_documents({"source_id": {"$in": sids}, "status": {"$in": list(OPEN)}})
    )


async def _settled(db: Any, expected: dict[str, int]) -> bool:
    for sid, n in expected.items():
        if await _count(db, sid) != n:
            return False
    return await _open_work(db, list(expected)) == 0


async def assert_exactly_once(db: Any, sid: str, keys: set[str]) -> None:
    """Every expected key stored once, as version 1 (a key applied twice would have a version 2
    or a closed copy), and no other key."""
    docs = await db["records"].find({"source_id": sid}, {"natural_key": 1, "version": 1, "deleted": 1}).to_list()
    stored = Counter(d["natural_key"] for d in docs)
    assert len(docs) == len(keys), f"{sid}: {len(docs)} records stored, {len(keys)} expected"
    assert set(stored) == keys, (
        f"{sid}: missing {sorted(keys - set(stored))[:5]}, extra {sorted(set(stored) - keys)[:5]}"
    )
    assert max(stored.values()) == 1
    assert {d["version"] for d in docs} == {1} and not any(d.get("deleted") for d in docs)
    assert await db["record_versions"].count_documents({"source_id": sid}) == 0, f"{sid}: a record was re-versioned"


async def assert_nothing_open(db: Any, sids: list[str]) -> list[dict[str, Any]]:
    """No document or head `processing`; every run final, a failed one with its reason. The runs."""
    for coll in ("raw_documents", "stream_heads"):
        stuck = await db[coll].find({"source_id": {"$in": sids}, "status": "processing"}).to_list()
        assert stuck == [], f"left processing in {coll}: {[d['_id'] for d in stuck]}"
    runs: list[dict[str, Any]] = await db["runs"].find({"source_id": {"$in": sids}}).to_list()
    assert [r["_id"] for r in runs if r["status"] in OPEN] == [], "a run is not final"
    assert all(r.get("error") for r in runs if r["status"] == "failed"), "a failed run without its reason"
    return runs


async def assert_change_log_complete(db: Any, sid: str) -> int:
    """Each dataset version's change log (what `headwater datasets rollback` undoes) names exactly
    the records that version wrote, each once. How many dataset versions the source has."""
    versions = await db["dataset_versions"].find({"source_id": sid}).to_list()
    logged: dict[str, Counter[tuple[str, int]]] = {}
    for v in versions:
        entries = Counter[tuple[str, int]]()
        async for batch in db["dataset_changes"].find({"version_id": v["_id"]}):
            entries.update((c[0], c[1]) for c in batch["changes"])
        assert not entries or max(entries.values()) == 1, f"{v['_id']}: a change logged twice"
        logged[v["_id"]] = entries
    written: dict[str, set[tuple[str, int]]] = {}
    async for r in db["records"].find({"source_id": sid}, {"natural_key": 1, "version": 1, "dataset_version": 1}):
        written.setdefault(r["dataset_version"], set()).add((r["natural_key"], r["version"]))
    assert set(written) <= set(logged), f"{sid}: records of an unknown dataset version {set(written) - set(logged)}"
    for version, entries in logged.items():
        missing = written.get(version, set()) - set(entries)
        extra = set(entries) - written.get(version, set())
        assert not missing and not extra, (
            f"{version}: change log misses {len(missing)} written records, names {len(extra)} not written"
        )
    return len(versions)


async def assert_dead_letters_listed(stack: Stack, db: Any, sids: list[str]) -> Counter[str]:
    """Every dead letter of `sids` is listed by `headwater dlq list --all`, with its cause."""
    letters = await db["dead_letters"].find({"source_id": {"$in": sids}}).to_list()
    listed = cli(stack, "dlq", "list", "--all", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    shown = {d["id"]: d for d in json.loads(listed.stdout)}
    assert {d["_id"] for d in letters} <= set(shown), "a dead letter is not listed by `headwater dlq list`"
    assert all(shown[d["_id"]].get("cause") for d in letters), "a dead letter without its cause"
    return Counter(shown[d["_id"]].get("outcome") or "parked" for d in letters)


async def _upload(stack: Stack, sid: str, body: str) -> httpx.Response:
    """The push route `headwater upload` calls, in process (no CLI start-up: it lands in the outage)."""
    base = f"{stack.apps()['planner'].dapr_url}/v1.0/invoke/collection-model/method"
    headers = {"authorization": f"Bearer {stack.api_token()}", **stack.info().dapr_headers()}
    async with httpx.AsyncClient(base_url=base, headers=headers) as api:
        return await api.post(
            f"/api/v1/sources/{sid}/uploads",
            content=body.encode(),
            headers={"content-type": "text/csv", "x-filename": "late.csv"},
            timeout=30,
        )


# ------------------------------------------------------------------------------------------ tests
async def test_worker_killed_during_an_upload_and_an_upload_made_while_it_is_down(
    stack: Stack, runtime: StackInfo, faults: Faults, mongo: AsyncMongoClient[Any], tmp_path: Path
) -> None:
    db = mongo[runtime.mongodb_database]
    big, small = f"wk-up-{uuid.uuid4().hex[:6]}", f"wk-late-{uuid.uuid4().hex[:6]}"
    _apply(stack, tmp_path, push_source(big))
    _apply(stack, tmp_path, push_source(small))
    (tmp_path / "big.csv").write_text(prices_csv("B", UPLOAD_ROWS))
    uploaded = await asyncio.to_thread(cli, stack, "upload", big, str(tmp_path / "big.csv"))
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr

    before = faults.marked_down("worker")
    old, at_kill = await _kill_when_part_stored(db, faults, "worker", big, UPLOAD_ROWS)
    killed = time.monotonic()
    faults.wait_marked_down("worker", before)
    late = await _upload(stack, small, prices_csv("L", SMALL_ROWS))
    assert late.status_code == 202, late.text
    assert not faults.app_answers("worker"), "the worker was back before the late upload was published"
    await asyncio.to_thread(faults.wait_restarted, "worker", old)
    back = time.monotonic() - killed

    expected = {big: UPLOAD_ROWS, small: SMALL_ROWS}
    settled = await until(lambda: _settled(db, expected), timeout=SETTLE_S, interval=1.0)
    recovered = time.monotonic() - killed
    stored = {sid: await _count(db, sid) for sid in expected}
    print(
        f"\n[worker kill during upload] expected {UPLOAD_ROWS} + {SMALL_ROWS} (uploaded while down), "
        f"stored {stored[big]} + {stored[small]} ({at_kill} at the kill); worker back in {back:.1f}s, "
        f"settled in {recovered:.1f}s"
    )
    assert settled, f"not settled: {stored}, open work {await _open_work(db, list(expected))}"
    await assert_exactly_once(db, big, {f"B{i:06d}" for i in range(UPLOAD_ROWS)})
    await assert_exactly_once(db, small, {f"L{i:06d}" for i in range(SMALL_ROWS)})
    await assert_nothing_open(db, [big, small])
    assert await assert_change_log_complete(db, big) == 1
    assert await assert_change_log_complete(db, small) == 1
    letters = await assert_dead_letters_listed(stack, db, [big, small])
    # the rollback of the late upload undoes exactly its 10 records
    version = (await db["dataset_versions"].find_one({"source_id": small}))["_id"]
    rolled = cli(stack, "datasets", "rollback", version)
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert f"0 restored, {SMALL_ROWS} removed, 0 left alone" in " ".join(rolled.stdout.split()), rolled.stdout
    live = await db["records"].count_documents({"source_id": small, "deleted": {"$ne": True}})
    print(f"[worker kill during upload] dead letters {dict(letters)}; rollback of the late upload left {live} live")
    assert live == 0
    _delete(stack, big, small)


async def test_worker_killed_mid_batch_of_a_paginated_pull(
    stack: Stack, runtime: StackInfo, faults: Faults, mongo: AsyncMongoClient[Any], tmp_path: Path
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"wk-pull-{uuid.uuid4().hex[:6]}"
    with FakeApi() as api:
        api.routes["/items"] = paged([{"id": f"P{i:06d}", "v": i} for i in range(PAGED_RECORDS)])
        api.delay = 0.1
        _apply(stack, tmp_path, paged_source(sid, api.url))
        triggered = cli(stack, "sources", "trigger", sid)
        assert triggered.returncode == 0, triggered.stdout + triggered.stderr

        old, at_kill = await _kill_when_part_stored(db, faults, "worker", sid, PAGED_RECORDS)
        killed = time.monotonic()
        await asyncio.to_thread(faults.wait_restarted, "worker", old)
        back = time.monotonic() - killed
        settled = await until(lambda: _settled(db, {sid: PAGED_RECORDS}), timeout=SETTLE_S, interval=1.0)
        recovered = time.monotonic() - killed
        stored = await _count(db, sid)
        pages = len(api.requests)
    runs = await db["runs"].find({"source_id": sid}).to_list()
    print(
        f"\n[worker kill mid-batch] expected {PAGED_RECORDS}, stored {stored} ({at_kill} at the kill) from "
        f"{pages} page requests; runs {sorted(r['status'] for r in runs)}; worker back in {back:.1f}s, "
        f"settled in {recovered:.1f}s"
    )
    assert settled, f"not settled: {stored} stored, open work {await _open_work(db, [sid])}"
    await assert_exactly_once(db, sid, {f"P{i:06d}" for i in range(PAGED_RECORDS)})
    runs = await assert_nothing_open(db, [sid])
    assert [r["status"] for r in runs] == ["succeeded"], [(r["status"], r.get("error")) for r in runs]
    assert await assert_change_log_complete(db, sid) == -(-PAGED_RECORDS // PAGE)
    print(f"[worker kill mid-batch] dead letters {dict(await assert_dead_letters_listed(stack, db, [sid]))}")
    _delete(stack, sid)


async def test_collection_model_killed_mid_fan_out(
    stack: Stack, runtime: StackInfo, faults: Faults, mongo: AsyncMongoClient[Any], tmp_path: Path
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"cm-fan-{uuid.uuid4().hex[:6]}"
    expected = REGION_RECORDS * len(REGIONS)
    requests = len(REGIONS) * -(-REGION_RECORDS // REGION_PAGE)
    with FakeApi() as api:
        for region in REGIONS:
            api.routes[f"/regions/{region}"] = paged([{"region": region, "n": n} for n in range(REGION_RECORDS)])
        api.delay = 0.3
        _apply(stack, tmp_path, fanout_source(sid, api.url))
        triggered = cli(stack, "sources", "trigger", sid)
        assert triggered.returncode == 0, triggered.stdout + triggered.stderr

        async def mid_fan_out() -> bool:
            return len(api.spans()) >= requests - 6  # past the first published batch (50 documents)

        assert await until(mid_fan_out, timeout=60, interval=0.05), f"{len(api.spans())} requests answered"
        old = faults.kill("collection-model")
        killed, fetched_at_kill = time.monotonic(), len(api.spans())
        assert fetched_at_kill < requests, "the fan-out was over before the kill: slow the fake API down"
        at_kill = await _count(db, sid)
        await asyncio.to_thread(faults.wait_restarted, "collection-model", old)
        back = time.monotonic() - killed
        retriggered = 0

        async def settled() -> bool:
            # a run that failed because its fetch died is completed by a later trigger
            nonlocal retriggered
            runs = await db["runs"].find({"source_id": sid}).to_list()
            if runs and all(r["status"] not in OPEN for r in runs) and await _count(db, sid) < expected:
                retriggered += cli(stack, "sources", "trigger", sid).returncode == 0
            return await _settled(db, {sid: expected})

        done = await until(settled, timeout=SETTLE_S, interval=1.0)
        recovered = time.monotonic() - killed
        stored, fetched = await _count(db, sid), len(api.spans())
    runs = await db["runs"].find({"source_id": sid}).to_list()
    print(
        f"\n[collection-model kill mid-fan-out] expected {expected} records of {len(REGIONS)} regions, stored "
        f"{stored} ({at_kill} at the kill, {fetched_at_kill} of {requests} pages fetched); pages fetched in all "
        f"{fetched}; runs {[(r['status'], r.get('error')) for r in runs]}, later triggers {retriggered}; "
        f"collection-model back in {back:.1f}s, settled in {recovered:.1f}s"
    )
    assert done, f"not settled: {stored} stored, open work {await _open_work(db, [sid])}"
    await assert_exactly_once(db, sid, {f"{r}|{n}" for r in REGIONS for n in range(REGION_RECORDS)})
    runs = await assert_nothing_open(db, [sid])
    assert runs[-1]["status"] == "succeeded" or any(r["status"] == "succeeded" for r in runs), runs
    assert await assert_change_log_complete(db, sid) == requests
    print(
        f"[collection-model kill mid-fan-out] dead letters {dict(await assert_dead_letters_listed(stack, db, [sid]))}"
    )
    _delete(stack, sid)


async def test_redis_killed_and_restarted_while_documents_flow(
    stack: Stack, runtime: StackInfo, faults: Faults, mongo: AsyncMongoClient[Any], tmp_path: Path
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"redis-{uuid.uuid4().hex[:6]}"
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS)
    expected = HOURS * PER_WINDOW
    await asyncio.to_thread(faults.persist_redis)  # as `make up` runs it: what Redis acknowledged survives
    with FakeApi() as api:
        api.routes["/orders"] = orders
        api.delay = 1.0
        _apply(stack, tmp_path, windowed_source(sid, api.url, start))
        first = cli(stack, "sources", "trigger", sid)
        assert f"planned: {HOURS} work item(s)" in first.stdout, first.stdout + first.stderr

        stored = await until(lambda: _between(db, sid, expected), timeout=60, interval=0.05)
        assert stored, "no record stored before the kill"
        faults.kill_redis()
        killed, at_kill = time.monotonic(), await _count(db, sid)
        assert at_kill < expected, "every window was stored before the kill: slow the fake API down"
        await asyncio.sleep(REDIS_DOWN_S)  # the fault itself: Redis stays down
        await asyncio.to_thread(faults.start_redis, True)
        triggers = peak = 0

        async def settled() -> bool:
            nonlocal triggers, peak
            state = await db["source_state"].find_one({"_id": sid}) or {}
            done = state.get("completed_until")
            complete = bool(done) and done.replace(tzinfo=UTC) >= start + timedelta(hours=HOURS)
            open_runs = await db["runs"].count_documents({"source_id": sid, "status": {"$in": list(OPEN)}})
            if not complete and open_runs == 0:  # a later trigger redoes the failed windows
                triggers += cli(stack, "sources", "trigger", sid).returncode == 0
            kept = await db["outbox"].count_documents({})
            peak = max(peak, kept)
            return complete and kept == 0 and await _settled(db, {sid: expected})

        done = await until(settled, timeout=SETTLE_S, interval=1.0)
        recovered = time.monotonic() - killed
        stored = await _count(db, sid)
    runs = await db["runs"].find({"source_id": sid}).to_list()
    windows = await db["completed_windows"].count_documents({"source_id": sid})
    kept = await db["outbox"].count_documents({})
    failing = await db["failed_windows"].find({"source_id": sid}).to_list()
    print(
        f"\n[redis kill while publishing] expected {expected} records of {HOURS} windows, stored {stored} "
        f"({at_kill} at the kill), windows completed {windows}; runs {sorted(r['status'] for r in runs)}, "
        f"later triggers {triggers}, failed windows redone {sum(w['state'] == 'recovered' for w in failing)} of "
        f"{len(failing)}; outbox held up to {peak}, left {kept}; Redis down {REDIS_DOWN_S:.0f}s, "
        f"settled {recovered:.1f}s after the kill"
    )
    assert done, f"not settled: {stored} stored, open work {await _open_work(db, [sid])}, outbox {kept}"
    await assert_exactly_once(
        db,
        sid,
        {
            f"{(start + timedelta(hours=h)).strftime('%Y-%m-%dT%H:%M:%SZ')}#{n}"
            for h in range(HOURS)
            for n in range(PER_WINDOW)
        },
    )
    await assert_nothing_open(db, [sid])
    assert windows == HOURS and all(w["state"] == "recovered" for w in failing)
    assert await assert_change_log_complete(db, sid) == HOURS
    print(f"[redis kill while publishing] dead letters {dict(await assert_dead_letters_listed(stack, db, [sid]))}")
    _delete(stack, sid)
