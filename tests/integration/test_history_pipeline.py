"""History on the real runtime, through uploads: A → B → A brings A back as new versions,
a snapshot closes what the next upload lacks, and a late older version (``valid_from_path``)
goes into the history at its place. Read through MongoDB, the event subscriber and the CLI."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from integration_support import cli, until  # type: ignore[import-not-found]
from pymongo import AsyncMongoClient

from headwater_ops.runtime.stack import Stack, StackInfo

pytestmark = pytest.mark.integration

HEADER = "Product Code,Description,Unit Price,Effective\n"


def source(sid: str, store: str) -> str:
    return f"""\
source_id: {sid}
ingestion: {{mode: push}}
parse: {{format: csv}}
map:
  fields: {{sku: Product Code, name: Description, price: Unit Price, effective: Effective}}
  standard_fields: [sku, name, price, effective]
validate:
  fields:
    price: {{type: number, required: true, min: 0}}
    effective: {{type: date, required: true}}
store: {{key: [sku], history: scd2{store}}}
"""


def rows(*items: tuple[str, str, str]) -> str:
    return HEADER + "".join(f"{sku},Part {sku},{price},{day}\n" for sku, price, day in items)


async def upload(stack: Stack, tmp_path: Path, sid: str, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    result = cli(stack, "upload", sid, str(path))
    assert result.returncode == 0, result.stderr


def apply(stack: Stack, tmp_path: Path, sid: str, store: str = "") -> None:
    (tmp_path / f"{sid}.yaml").write_text(source(sid, store))
    applied = cli(stack, "sources", "apply", "-f", str(tmp_path / f"{sid}.yaml"))
    assert applied.returncode == 0, applied.stderr


async def test_a_b_a_brings_a_back_as_new_versions(
    stack: Stack, runtime: StackInfo, tmp_path: Path, mongo: AsyncMongoClient
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"aba-{uuid.uuid4().hex[:6]}"
    apply(stack, tmp_path, sid)
    a = rows(("P-1", "1.50", "2026-01-01"), ("P-2", "0.20", "2026-01-01"))
    b = a.replace("1.50", "1.75")

    async def at_version(n: int) -> Any:
        doc = await db["records"].find_one({"_id": f"{sid}:P-1"})
        return doc if doc and doc["version"] == n else None

    for n, content in enumerate((a, b, a), start=1):
        await upload(stack, tmp_path, sid, "prices.csv", content)  # the same file name each time
        assert await until(lambda n=n: at_version(n)), f"version {n} never arrived"

    current = await db["records"].find_one({"_id": f"{sid}:P-1"})
    assert current["data"]["price"] == 1.5 and current["is_current"]
    assert (await db["records"].find_one({"_id": f"{sid}:P-2"}))["version"] == 1  # unchanged throughout
    history = json.loads(cli(stack, "records", "history", sid, "P-1", "-o", "json").stdout)
    versions = history["versions"]
    assert [(v["version"], v["data"]["price"], v["current"]) for v in versions] == [
        (1, 1.5, False),
        (2, 1.75, False),
        (3, 1.5, True),
    ]
    assert [v["valid_to"] for v in versions[:-1]] == [v["valid_from"] for v in versions[1:]]
    assert len({v["dataset_version"] for v in versions}) == 3  # each occurrence its own dataset version
    table = cli(stack, "records", "history", sid, "P-1")
    assert table.returncode == 0 and "current" in table.stdout
    print(table.stdout)

    await upload(stack, tmp_path, sid, "again.csv", a)  # the latest content again: a duplicate

    async def duplicated() -> bool:
        doc = await db["raw_documents"].find_one({"_id": f"{sid}:{hashlib.sha256(a.encode()).hexdigest()}"})
        return bool(doc and doc.get("duplicates") == 1)

    assert await until(duplicated)
    assert (await db["records"].find_one({"_id": f"{sid}:P-1"}))["version"] == 3


async def test_a_snapshot_closes_what_the_next_upload_lacks(
    stack: Stack, runtime: StackInfo, tmp_path: Path, http: httpx.AsyncClient, mongo: AsyncMongoClient
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"snap-{uuid.uuid4().hex[:6]}"
    apply(stack, tmp_path, sid, ", mode: snapshot")
    day = "2026-01-01"
    await upload(stack, tmp_path, sid, "p.csv", rows(("P-1", "1", day), ("P-2", "2", day), ("P-3", "3", day)))

    async def live(n: int) -> bool:
        return await db["records"].count_documents({"source_id": sid, "deleted": {"$ne": True}}) == n

    assert await until(lambda: live(3))
    await upload(stack, tmp_path, sid, "p.csv", rows(("P-1", "1", day), ("P-2", "2", day)))

    async def deleted() -> Any:
        return await db["records"].find_one({"_id": f"{sid}:P-3", "deleted": True})

    stone = await until(deleted)
    assert stone and stone["is_current"] is False and stone["version"] == 2
    closed = await db["record_versions"].find_one({"_id": f"{sid}:P-3:v1"})
    assert closed["valid_to"] is not None and closed["data"]["price"] == 3
    subscriber = runtime.apps["event-subscriber"].invoke_url

    async def announced() -> Any:
        got = (await http.get(f"{subscriber}/events", params={"source": sid, "type": "records.changed"})).json()
        return [e for e in got if e.get("deleted")]

    events = await until(announced)
    assert events and events[0]["deleted"] == ["P-3"] and events[0]["dataset_version"] == stone["dataset_version"]
    summary = json.loads(cli(stack, "summary", "--source", sid, "-o", "json").stdout)
    assert summary["sources"][sid]["records"] == 2

    rolled = cli(stack, "datasets", "rollback", stone["dataset_version"])
    assert rolled.returncode == 0 and "1 restored" in rolled.stdout, rolled.stderr
    assert await live(3)


async def test_a_late_older_version_takes_its_place_in_the_history(
    stack: Stack, runtime: StackInfo, tmp_path: Path, mongo: AsyncMongoClient
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"late-{uuid.uuid4().hex[:6]}"
    apply(stack, tmp_path, sid, ", valid_from_path: effective")

    async def versions(n: int) -> Any:
        found = await db["record_versions"].find({"source_id": sid, "natural_key": "P-1"}).to_list()
        return found if len(found) >= n else None

    await upload(stack, tmp_path, sid, "jan.csv", rows(("P-1", "1.00", "2026-01-01")))
    assert await until(lambda: db["records"].find_one({"_id": f"{sid}:P-1"}))
    await upload(stack, tmp_path, sid, "mar.csv", rows(("P-1", "3.00", "2026-03-01")))
    assert await until(lambda: versions(1))
    await upload(stack, tmp_path, sid, "feb.csv", rows(("P-1", "2.00", "2026-02-01")))  # arrives last
    history = await until(lambda: versions(2))

    assert history, "the late version never reached the history"
    current = await db["records"].find_one({"_id": f"{sid}:P-1"})
    assert current["data"]["price"] == 3.0 and current["valid_from"].date().isoformat() == "2026-03-01"
    chain = sorted(history, key=lambda v: v["valid_from"])
    assert [
        (v["data"]["price"], v["valid_from"].date().isoformat(), v["valid_to"].date().isoformat()) for v in chain
    ] == [
        (1.0, "2026-01-01", "2026-02-01"),
        (2.0, "2026-02-01", "2026-03-01"),
    ]
