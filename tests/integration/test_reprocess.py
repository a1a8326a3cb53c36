"""``headwater reprocess`` on the real runtime: an upload whose mapping missed a column is parsed
again after the config is fixed — from the worker's kept copy (``raw_bodies``), without
uploading again — and the records carry the column; ``--document`` takes one document; an
expired body is reported."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import pytest
from integration_support import cli, until  # type: ignore[import-not-found]
from pymongo import AsyncMongoClient

from headwater_ops.runtime.stack import Stack, StackInfo

pytestmark = pytest.mark.integration

HEADER = "Product Code,Description,Unit Price\n"


def source(sid: str, fixed: bool, retention: str = "") -> str:
    """Without ``fixed`` the price column is not mapped (fuzzy off): it lands in characteristics."""
    price = ", price: Unit Price" if fixed else ""
    rule = "validate:\n  fields:\n    price: {type: number, required: true}\n" if fixed else ""
    keep = f", raw_retention: {retention}" if retention else ""
    return f"""\
source_id: {sid}
ingestion: {{mode: push}}
parse: {{format: csv}}
map:
  fields: {{sku: Product Code, name: Description{price}}}
  fuzzy: false
  standard_fields: [sku, name, price]
{rule}store: {{key: [sku], history: scd2{keep}}}
"""


def apply(stack: Stack, tmp_path: Path, sid: str, fixed: bool, retention: str = "") -> str:
    path = tmp_path / f"{sid}.yaml"
    path.write_text(source(sid, fixed, retention))
    applied = cli(stack, "sources", "apply", "-f", str(path))
    assert applied.returncode == 0, applied.stderr
    return applied.stdout


def upload(stack: Stack, tmp_path: Path, sid: str, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content)
    result = cli(stack, "upload", sid, str(path))
    assert result.returncode == 0, result.stderr
    return f"{sid}:{hashlib.sha256(content.encode()).hexdigest()}"


def rows(*items: tuple[str, str]) -> str:
    return HEADER + "".join(f"{sku},Part {sku},{price}\n" for sku, price in items)


async def test_reprocess_after_a_mapping_fix_gives_the_records_their_price(
    stack: Stack, runtime: StackInfo, tmp_path: Path, mongo: AsyncMongoClient
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"rep-{uuid.uuid4().hex[:6]}"
    apply(stack, tmp_path, sid, fixed=False)
    content = rows(("P-1", "1.50"), ("P-2", "0.20"))
    doc_id = upload(stack, tmp_path, sid, "prices.csv", content)

    async def record(key: str, check: Any = lambda d: True) -> Any:
        doc = await db["records"].find_one({"_id": f"{sid}:{key}"})
        return doc if doc and check(doc) else None

    p1 = await until(lambda: record("P-1"))
    assert p1 and "price" not in p1["data"] and p1["data"]["characteristics"] == {"Unit Price": "1.50"}
    kept = await until(lambda: db["raw_bodies"].find_one({"_id": f"{doc_id}:0"}))
    assert kept and kept["codec"] == "zlib" and kept["of"] == 1 and "expires_at" not in kept

    assert "updated" in apply(stack, tmp_path, sid, fixed=True)
    result = cli(stack, "reprocess", sid)
    assert result.returncode == 0, result.stderr
    assert f"queued 1 document(s) of source/{sid}" in result.stdout and doc_id in result.stdout
    print(result.stdout)

    p1 = await until(lambda: record("P-1", lambda d: d["data"].get("price") == 1.5))
    assert p1, "the reprocessed document never gave P-1 its price"
    assert p1["version"] == 2 and p1["data"] == {"sku": "P-1", "name": "Part P-1", "price": 1.5}
    assert await until(lambda: record("P-2", lambda d: d["data"].get("price") == 0.2))
    assert await db["dataset_versions"].count_documents({"source_id": sid}) == 2
    steps = {(e["step"], e["outcome"]) for e in await db["audit"].find({"source_id": sid}).to_list()}
    assert {("reprocess", "queued"), ("reprocess", "new"), ("store", "done")} <= steps

    upload(stack, tmp_path, sid, "again.csv", content)  # the same bytes again: still a duplicate

    async def duplicated() -> bool:
        doc = await db["raw_documents"].find_one({"_id": doc_id})
        return bool(doc and doc.get("duplicates") == 1)

    assert await until(duplicated)
    assert (await record("P-1"))["version"] == 2
    assert await db["raw_bodies"].count_documents({"source_id": sid}) == 1  # kept once


async def test_reprocess_of_one_document_and_what_cannot_be_reprocessed(
    stack: Stack, runtime: StackInfo, tmp_path: Path, mongo: AsyncMongoClient
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"rep1-{uuid.uuid4().hex[:6]}"
    apply(stack, tmp_path, sid, fixed=False, retention="30d")
    older = upload(stack, tmp_path, sid, "a.csv", rows(("P-1", "1.00")))
    assert await until(lambda: db["records"].find_one({"_id": f"{sid}:P-1"}))
    newer = upload(stack, tmp_path, sid, "b.csv", rows(("P-2", "2.00")))
    assert await until(lambda: db["records"].find_one({"_id": f"{sid}:P-2"}))
    kept = await db["raw_bodies"].find_one({"_id": f"{newer}:0"})
    assert kept and kept["expires_at"] > kept["stored_at"]
    apply(stack, tmp_path, sid, fixed=True, retention="30d")

    one = cli(stack, "reprocess", sid, "--document", newer.split(":")[1])  # by its sha256
    assert one.returncode == 0 and "queued 1 document(s)" in one.stdout, one.stderr

    async def priced() -> Any:
        return await db["records"].find_one({"_id": f"{sid}:P-2", "data.price": 2.0})

    assert await until(priced)
    p1 = await db["records"].find_one({"_id": f"{sid}:P-1"})
    assert p1["version"] == 1 and "price" not in p1["data"]  # not asked for

    late = cli(stack, "reprocess", sid, "--document", older)  # the upload stream's older document
    assert late.returncode == 0 and "queued 0 document(s)" in late.stdout
    assert f"superseded by a later document of its stream, not reprocessed: {older}" in late.stderr
    unknown = cli(stack, "reprocess", sid, "--document", f"{sid}:{'0' * 64}")
    assert unknown.returncode == 1 and "404" in unknown.stderr


async def test_an_expired_body_is_reported(
    stack: Stack, runtime: StackInfo, tmp_path: Path, mongo: AsyncMongoClient
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"rep2-{uuid.uuid4().hex[:6]}"
    apply(stack, tmp_path, sid, fixed=False, retention="1s")
    doc_id = upload(stack, tmp_path, sid, "a.csv", rows(("P-1", "1.00")))
    assert await until(lambda: db["records"].find_one({"_id": f"{sid}:P-1"}))

    async def refused() -> Any:
        result = cli(stack, "reprocess", sid)
        return result if result.returncode == 1 else None

    result = await until(refused)
    assert result, "the body never expired"
    assert f"body expired (store.raw_retention), cannot be reprocessed: {doc_id}" in result.stderr
    assert "queued 0 document(s)" in result.stdout
