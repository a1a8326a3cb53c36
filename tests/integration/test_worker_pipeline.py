"""Issue: worker dedup, parsing, validation, history and events — on the real runtime.
The test publishes raw documents on the real pub/sub (as collection-model would) and reads
the events an independent subscriber app received."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from integration_support import cli, until  # type: ignore[import-not-found]
from pymongo import AsyncMongoClient

from headwater.contracts.messages import RawDocument
from headwater.contracts.topics import PUBSUB, RAW_DOCUMENTS
from headwater_ops.runtime.stack import Stack, StackInfo

pytestmark = pytest.mark.integration


def push_source(sid: str, fmt: str = "csv") -> str:
    return f"""\
source_id: {sid}
ingestion: {{mode: push}}
parse: {{format: {fmt}}}
validate:
  fields:
    qty: {{type: integer, required: true, min: 0}}
store: {{key: [sku], history: scd2}}
events: {{records_changed_batch: 40}}
"""


async def publish(
    http: httpx.AsyncClient, runtime: StackInfo, sid: str, content: str, task: str, key: str = "doc-1", version: int = 1
) -> None:
    doc = RawDocument(
        source_id=sid,
        config_version=version,
        task_id=task,
        document_key=key,
        content_type="text/csv",
        content=content,
        fetched_at=datetime.now(UTC),
    )
    response = await http.post(
        f"{runtime.apps['collection-model'].dapr_url}/v1.0/publish/{PUBSUB}/{RAW_DOCUMENTS}",
        json=doc.model_dump(mode="json"),
    )
    assert response.status_code == 204, response.text


def csv_rows(n: int, bad_row: int | None = None, qty_shift: int = 0) -> str:
    lines = ["sku,qty"]
    for i in range(2, n + 2):  # file row numbers: the header is row 1
        lines.append(f"S{i},{'lots' if i == bad_row else i + qty_shift}")
    return "\n".join(lines) + "\n"


async def test_documents_records_events_duplicates_and_redelivery(
    stack: Stack, runtime: StackInfo, tmp_path: Path, http: httpx.AsyncClient, mongo: AsyncMongoClient
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"wk-{uuid.uuid4().hex[:6]}"
    (tmp_path / "s.yaml").write_text(push_source(sid))
    assert cli(stack, "sources", "apply", "-f", str(tmp_path / "s.yaml")).returncode == 0
    content = csv_rows(100, bad_row=50)
    subscriber = runtime.apps["event-subscriber"].invoke_url

    async def events(kind: str, n: int) -> Any:
        got = (await http.get(f"{subscriber}/events", params={"source": sid, "type": kind})).json()
        return got if len(got) >= n else None

    # the same message delivered twice (as at-least-once delivery may)
    await publish(http, runtime, sid, content, f"{sid}:t1")
    await publish(http, runtime, sid, content, f"{sid}:t1")

    stored = await until(lambda: events("document.stored", 1))
    assert stored and stored[0]["rows"] == 100 and stored[0]["rows_valid"] == 99 and stored[0]["rows_rejected"] == 1
    changed = await until(lambda: events("records.changed", 3))
    assert (
        changed
        and sum(len(e["created"]) for e in changed) == 99
        and [e["last"] for e in changed] == [False, False, True]
    )
    assert await db["records"].count_documents({"source_id": sid}) == 99
    assert await db["record_versions"].count_documents({"source_id": sid}) == 0  # nothing superseded yet
    logs = await db["parsing_logs"].find({"source_id": sid}).to_list()
    assert [(e["row"], e["field"]) for e in logs] == [(50, "qty")] and "S50" in logs[0]["excerpt"]

    # the same content in a new task: announced as a duplicate, nothing written
    before = await db["records"].find_one({"_id": f"{sid}:S2"})
    await publish(http, runtime, sid, content, f"{sid}:t2")
    dups = await until(lambda: events("document.duplicate", 2))
    assert dups and {d["task_id"] for d in dups} == {f"{sid}:t1", f"{sid}:t2"}
    assert await db["record_versions"].count_documents({"source_id": sid}) == 0
    assert await db["records"].find_one({"_id": f"{sid}:S2"}) == before
    assert len((await http.get(f"{subscriber}/events", params={"source": sid, "type": "document.stored"})).json()) == 1


async def test_unparseable_document_is_replayed_after_the_config_is_fixed(
    stack: Stack, runtime: StackInfo, tmp_path: Path, http: httpx.AsyncClient, mongo: AsyncMongoClient
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"fix-{uuid.uuid4().hex[:6]}"
    config = tmp_path / "s.yaml"
    config.write_text(push_source(sid, fmt="json"))  # wrong: the files are CSV
    assert cli(stack, "sources", "apply", "-f", str(config)).returncode == 0
    await publish(http, runtime, sid, csv_rows(10), f"{sid}:t1")

    async def letter() -> Any:
        return await db["dead_letters"].find_one({"source_id": sid})

    dead = await until(letter)
    assert dead, "the unparseable document never reached the dead-letter topic"
    failed = await until(lambda: events_of(http, runtime, sid, "task.failed"))
    assert failed and failed[0]["stage"] == "parse" and "invalid JSON" in failed[0]["error"]

    config.write_text(push_source(sid, fmt="csv"))  # the fix
    assert "updated (version 2)" in cli(stack, "sources", "apply", "-f", str(config)).stdout
    assert cli(stack, "dlq", "replay", dead["_id"]).returncode == 0

    async def records() -> bool:
        return await db["records"].count_documents({"source_id": sid}) == 10

    assert await until(records)
    raw = await db["raw_documents"].find_one({"source_id": sid})
    assert raw["status"] == "processed" and raw["config_version"] == 1  # first seen with v1, stored with v2


async def events_of(http: httpx.AsyncClient, runtime: StackInfo, sid: str, kind: str) -> Any:
    got = (
        await http.get(f"{runtime.apps['event-subscriber'].invoke_url}/events", params={"source": sid, "type": kind})
    ).json()
    return got or None
