"""Push mode on the real runtime: uploads land like fetched bodies; duplicates, history,
rollback and dead letters through the CLI."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from integration_support import cli, until  # type: ignore[import-not-found]
from pymongo import AsyncMongoClient

from headwater_ops.runtime.stack import Stack, StackInfo

pytestmark = pytest.mark.integration

PRICES = (
    "Product Code,Description,Unit Price,Currency,Colour\n"
    "P-1,Bolt,1.50,EUR,red\nP-2,Nut,0.20,EUR,\nP-3,Washer,oops,EUR,\n"
)


def push_source(sid: str, fmt: str = "csv") -> str:
    # a table maps by column name; JSON records by JMESPath, where a name with a space is quoted
    code = "Product Code" if fmt == "csv" else "'\"Product Code\"'"
    return f"""\
source_id: {sid}
ingestion: {{mode: push}}
parse: {{format: {fmt}}}
map:
  fields: {{sku: {code}, name: Description}}
  standard_fields: [sku, name, price, currency]
  fuzzy_threshold: 60
validate:
  fields:
    price: {{type: number, required: true, min: 0}}
store: {{key: [sku], history: scd2}}
"""


async def test_upload_dedup_history_and_rollback(
    stack: Stack, runtime: StackInfo, tmp_path: Path, mongo: AsyncMongoClient
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"push-{uuid.uuid4().hex[:6]}"
    (tmp_path / "s.yaml").write_text(push_source(sid))
    assert cli(stack, "sources", "apply", "-f", str(tmp_path / "s.yaml")).returncode == 0
    first = tmp_path / "prices.csv"
    first.write_text(PRICES)

    up = cli(stack, "upload", sid, str(first))
    assert up.returncode == 0, up.stderr

    async def records(n: int) -> bool:
        return await db["records"].count_documents({"source_id": sid}) == n

    assert await until(lambda: records(2))
    p1 = await db["records"].find_one({"_id": f"{sid}:P-1"})
    assert p1["data"] == {
        "sku": "P-1",
        "name": "Bolt",
        "price": 1.5,
        "currency": "EUR",
        "characteristics": {"Colour": "red"},
    }
    log = await db["parsing_logs"].find({"source_id": sid}).to_list()
    assert [(e["row"], e["field"]) for e in log] == [(4, "price")] and "not a number" in log[0]["reason"]

    assert cli(stack, "upload", sid, str(first)).returncode == 0  # the same bytes again

    async def duplicated() -> bool:
        doc = await db["raw_documents"].find_one({"source_id": sid})
        return bool(doc and doc.get("duplicates") == 1)

    assert await until(duplicated)

    second = tmp_path / "prices-v2.csv"
    second.write_text(PRICES.replace("1.50", "1.65"))
    assert cli(stack, "upload", sid, str(second)).returncode == 0

    async def v2() -> Any:
        doc = await db["records"].find_one({"_id": f"{sid}:P-1"})
        return doc if doc and doc["version"] == 2 else None

    changed = await until(v2)
    assert changed and changed["data"]["price"] == 1.65

    summary = json.loads(cli(stack, "summary", "--source", sid, "-o", "json").stdout)
    assert summary["sources"][sid] | {} == {"stored": 2, "failed": 0, "duplicates": 1, "records": 2, "rows_rejected": 2}

    rolled = cli(stack, "datasets", "rollback", changed["dataset_version"])
    assert rolled.returncode == 0, rolled.stderr
    assert "1 restored, 0 removed" in rolled.stdout
    restored = await db["records"].find_one({"_id": f"{sid}:P-1"})
    assert restored["version"] == 3 and restored["data"]["price"] == 1.5  # history only grows
    trail = json.loads(cli(stack, "audit", "--source", sid, "-o", "json").stdout)
    steps = [(r["step"], r["outcome"]) for r in trail]
    assert ("rollback", "done") in steps and ("store", "done") in steps and ("dedup", "duplicate") in steps
    again = cli(stack, "datasets", "rollback", changed["dataset_version"])
    assert again.returncode == 1 and "already rolled back" in again.stderr


async def test_unparseable_upload_is_dead_lettered_listed_and_replayed(
    stack: Stack, runtime: StackInfo, tmp_path: Path, mongo: AsyncMongoClient
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"dlq-{uuid.uuid4().hex[:6]}"
    (tmp_path / "s.yaml").write_text(push_source(sid, fmt="json"))
    assert cli(stack, "sources", "apply", "-f", str(tmp_path / "s.yaml")).returncode == 0
    bad = tmp_path / "broken.json"
    bad.write_text('{"items": [1, 2')
    assert cli(stack, "upload", sid, str(bad)).returncode == 0

    async def letters(n: int) -> Any:
        rows = await db["dead_letters"].find({"source_id": sid}).to_list()
        return rows if len(rows) >= n else None

    assert await until(lambda: letters(1))
    listed = json.loads(cli(stack, "dlq", "list", "-o", "json").stdout)
    mine = [row for row in listed if row["source_id"] == sid]
    assert len(mine) == 1
    failed = await db["raw_documents"].find_one({"source_id": sid})
    assert failed["status"] == "failed" and "invalid JSON" in failed["error"]
    event_log = await db["parsing_logs"].find_one({"source_id": sid, "row": 0})
    assert event_log and "invalid JSON" in event_log["reason"]

    replay = cli(stack, "dlq", "replay", mine[0]["id"])
    assert replay.returncode == 0 and "replayed 1 dead letter(s)" in replay.stdout
    # still broken: processed again and dead-lettered again (a new letter), the old one marked replayed
    rows = await until(lambda: letters(2))
    assert rows and sum(1 for r in rows if r["replayed_at"] is not None) == 1
