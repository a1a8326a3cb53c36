"""Issue: every query other than by ``_id`` scanned its collection. Each service declares its
indexes and its hot queries (``<service>/adapters/mongo_indexes.py``) and creates the indexes at
start-up; here every hot query is explained on the real database of the running stack and must
use its index, not a collection scan.

What the explain output looks like:

- MongoDB: ``queryPlanner.winningPlan`` is a tree of ``stage``s; a scan is ``COLLSCAN``, an
  index ``IXSCAN`` with ``indexName`` (inside ``$cursor`` for an aggregate).
- FerretDB 2.5 + DocumentDB 0.106: ``queryPlanner.Plan`` is PostgreSQL's ``EXPLAIN (FORMAT
  JSON)`` of the ``documents_<n>`` table: ``Node Type`` ``Limit`` / ``Sort`` / ``Bitmap Heap
  Scan`` over a ``Bitmap Index Scan`` (or ``Index Scan``) with ``Index Name`` and ``Index Cond``.
  A collection scan is either a ``Seq Scan`` or — while the table has no statistics — a
  ``Bitmap Index Scan`` of ``_id_`` whose only condition is ``shard_key_value = '<n>'``,
  which matches every document (an ``_id`` range has ``object_id`` bounds there too). A sort
  is always done in memory (a ``Sort`` node), even when an
  index has the sort key, so an index serves only the filter there.

A table of a few documents may rightly be scanned, so each collection gets 2,000 documents of
this test's own (spread over 100 values of each filtered field; removed afterwards) first.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from collection_model.adapters import mongo_indexes as collection_model_indexes
from headwater.edge.indexes import Query
from headwater_ops.runtime.stack import StackInfo
from planner.adapters import mongo_indexes as planner_indexes
from worker.adapters import mongo_indexes as worker_indexes

pytestmark = pytest.mark.integration

MODULES = (planner_indexes, collection_model_indexes, worker_indexes)
INDEXES = [i for m in MODULES for i in m.INDEXES]
TTL_INDEXES = [i for m in MODULES for i in getattr(m, "TTL_INDEXES", ())]
HOT_QUERIES = [q for m in MODULES for q in m.HOT_QUERIES]
SEEDED = 2000
SPREAD = 100  # distinct values of each filtered field among the seeded documents
PICK = 7  # the value the explained queries ask for (~1% of the documents)
BASE = datetime(2026, 1, 1, tzinfo=UTC)
SKIP = ("rejectedPlans", "command", "serverInfo")


def plan_scans(node: Any) -> tuple[set[str], list[str]]:
    """The indexes an explain output uses and the collection scans in it (MongoDB or DocumentDB)."""
    used: set[str] = set()
    scans: list[str] = []
    _walk(node, used, scans)
    return used, scans


def _walk(node: Any, used: set[str], scans: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item, used, scans)
        return
    if not isinstance(node, dict):
        return
    stage, pg_node = node.get("stage"), node.get("Node Type")
    if stage == "COLLSCAN" or pg_node == "Seq Scan":
        scans.append(str(stage or pg_node))
    if isinstance(node.get("indexName"), str):
        used.add(node["indexName"])
    if isinstance(node.get("Index Name"), str):
        cond = str(node.get("Index Cond", ""))
        if (
            node["Index Name"] == "_id_"
            and "shard_key_value" in cond
            and not ("document" in cond or "object_id" in cond)
        ):
            scans.append(f"{pg_node} of _id_ on {cond} (every document)")
        else:
            used.add(node["Index Name"])
    for key, value in node.items():
        if key not in SKIP:
            _walk(value, used, scans)


def _operand(value: Any) -> Any:
    return next(iter(value.values())) if isinstance(value, Mapping) else value


def _seed_value(field: str, sample: Any, i: int, tag: str) -> Any:
    if isinstance(sample, datetime):
        return BASE + timedelta(minutes=i - SEEDED // 2)
    if isinstance(sample, bool):
        return i % 10 == 0
    if sample is None:
        return None if i % 2 else BASE
    if isinstance(sample, str):
        return f"{tag}-{field}-{i % SPREAD}"
    return i  # a key only sorted on or indexed


def _put(doc: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        doc = doc.setdefault(part, {})
    doc[last] = value


def seed_documents(collection: str, tag: str) -> list[dict[str, Any]]:
    """Documents holding every field the collection's indexes and hot queries name."""
    samples: dict[str, Any] = {}
    for index in (i for i in INDEXES if i.collection == collection):
        samples.update({key: ... for key, _ in index.keys})
    for query in (q for q in HOT_QUERIES if q.collection == collection):
        samples.update({key: ... for key, _ in query.sort})
        samples.update({key: _operand(value) for key, value in query.filter.items()})
    samples.pop("_id", None)
    docs = []
    for i in range(SEEDED):
        doc: dict[str, Any] = {"_id": f"{tag}:{i:05d}"}
        for field, sample in samples.items():
            _put(doc, field, _seed_value(field, sample, i, tag))
        docs.append(doc)
    return docs


def concrete(query: Query, tag: str) -> dict[str, Any]:
    """The query's filter asking for seeded values: every string becomes the ``PICK``-th value."""

    def pick(field: str, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {op: pick(field, v) for op, v in value.items()}
        return f"{tag}-{field}-{PICK}" if isinstance(value, str) else value

    return {field: pick(field, value) for field, value in query.filter.items()}


async def explain(db: AsyncDatabase[Any], query: Query, tag: str) -> dict[str, Any]:
    where = concrete(query, tag)
    if query.kind == "aggregate":
        command: dict[str, Any] = {"aggregate": query.collection, "pipeline": [{"$match": where}], "cursor": {}}
    else:
        command = {"find": query.collection, "filter": where, "limit": 100}
        if query.sort:
            command["sort"] = dict(query.sort)
    result: dict[str, Any] = await db.command("explain", command)
    return result


@pytest.fixture(scope="module")
def tag() -> str:
    return f"idx-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
async def seeded(runtime: StackInfo, tag: str) -> AsyncIterator[AsyncDatabase[Any]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(runtime.mongodb_uri, tz_aware=True)
    db = client[runtime.mongodb_database]
    collections = sorted({q.collection for q in HOT_QUERIES})
    try:
        for name in collections:
            await db[name].insert_many(seed_documents(name, tag), ordered=False)
        yield db
    finally:
        for name in collections:
            await db[name].delete_many({"_id": {"$in": [f"{tag}:{i:05d}" for i in range(SEEDED)]}})
        await client.close()


def _ids(queries: list[Query]) -> Iterator[str]:
    return (f"{q.collection}:{q.reader}" for q in queries)


async def test_the_services_created_every_declared_index_at_start_up(
    runtime: StackInfo, mongo: AsyncMongoClient
) -> None:
    db = mongo[runtime.mongodb_database]
    for index in (*INDEXES, *TTL_INDEXES):
        found = {i["name"]: i async for i in await db[index.collection].list_indexes()}
        assert index.name in found, f"{index.collection}: {index.name} missing, has {sorted(found)}"
        assert list(found[index.name]["key"].items()) == [(k, d) for k, d in index.keys]
        assert {k: found[index.name].get(k) for k in index.options} == dict(index.options)


async def test_creating_the_indexes_again_changes_nothing(runtime: StackInfo, mongo: AsyncMongoClient) -> None:
    db = mongo[runtime.mongodb_database]
    before = {
        c: [i async for i in await db[c].list_indexes()] for c in {i.collection for i in (*INDEXES, *TTL_INDEXES)}
    }
    for module in MODULES:
        await module.ensure_indexes(db)
    after = {c: [i async for i in await db[c].list_indexes()] for c in before}
    assert after == before


@pytest.mark.parametrize("query", HOT_QUERIES, ids=list(_ids(HOT_QUERIES)))
async def test_a_hot_query_uses_its_index_not_a_collection_scan(
    seeded: AsyncDatabase[Any], tag: str, query: Query
) -> None:
    result = await explain(seeded, query, tag)
    used, scans = plan_scans(result)
    shown = result.get("queryPlanner", result)
    assert not scans, f"{query.reader} scans {query.collection}: {scans}\n{shown}"
    assert query.index in used, f"{query.reader} uses {sorted(used)}, not {query.index}\n{shown}"
