"""The index declarations of every service (``<service>/adapters/mongo_indexes.py``), without a
database: each index serves a declared hot query and each hot query names a declared index
whose leading key it filters on; and the adapters really make the declared queries — every
read they issue (recorded by a fake database) is a declared hot query or a declared scan, and
every declared one is issued. A read by ``_id`` values takes the ``_id`` index and needs no
declaration; a read of an ``_id`` range (one source's documents, ``of_source``) is a hot query on
``_id_``. ``TTL_INDEXES`` expire documents and serve no query."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest

from collection_model.adapters import mongo_indexes as collection_model_indexes
from headwater.contracts.messages import ContentReference
from headwater.edge.blobs import BlobIntegrityError, MongoBlobStore
from headwater.edge.indexes import Query
from planner.adapters import mongo_indexes as planner_indexes
from planner.adapters.mongo_planning import MongoRunRepository, MongoStateRepository
from planner.adapters.mongo_retries import MongoRetryRepository
from planner.adapters.mongo_sources import MongoJobRegistry, MongoSourceRepository
from worker.adapters import mongo_indexes as worker_indexes
from worker.adapters.mongo_dead_letters import MongoDeadLetterStore
from worker.adapters.mongo_reads import MongoStorageReads
from worker.adapters.mongo_store import MongoDatasetVersions, MongoRawDocuments, MongoRecordStore

MODULES = {"planner": planner_indexes, "collection-model": collection_model_indexes, "worker": worker_indexes}
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Read:
    collection: str
    kind: str
    filter: Mapping[str, Any]
    sort: tuple[tuple[str, int], ...] = ()


@dataclass
class Cursor:
    read: Read

    def sort(self, key: str | list[tuple[str, int]], direction: int = 1) -> Cursor:
        self.read.sort = (*self.read.sort, *([(key, direction)] if isinstance(key, str) else key))
        return self

    def limit(self, _: int) -> Cursor:
        return self

    def batch_size(self, _: int) -> Cursor:
        return self

    async def to_list(self) -> list[Any]:
        return []

    def __aiter__(self) -> Cursor:
        return self

    async def __anext__(self) -> Any:
        raise StopAsyncIteration


@dataclass
class RecordingDatabase:
    """Just enough of ``AsyncDatabase`` for the adapters' reads; every read lands in ``reads``."""

    reads: list[Read] = field(default_factory=list)

    def __getitem__(self, name: str) -> RecordingCollection:
        return RecordingCollection(name, self.reads)


@dataclass
class RecordingCollection:
    name: str
    reads: list[Read]

    def find(self, filter: Mapping[str, Any], projection: Any = None) -> Cursor:
        self.reads.append(read := Read(self.name, "find", filter))
        return Cursor(read)

    async def aggregate(self, pipeline: list[Mapping[str, Any]]) -> Cursor:
        self.reads.append(read := Read(self.name, "aggregate", pipeline[0]["$match"]))
        return Cursor(read)


async def _drain(reader: Any) -> None:
    async for _ in reader:
        pass


async def _blob(db: Any) -> None:
    with pytest.raises(BlobIntegrityError):  # nothing stored: the read is all we want
        await MongoBlobStore(db).get(ContentReference(key="abc", size_bytes=1, sha256="abc"))


def planner_reads(db: Any) -> list[Awaitable[Any]]:
    runs, retries, sources = MongoRunRepository(db), MongoRetryRepository(db), MongoSourceRepository(db)
    return [
        MongoStateRepository(db).done_windows_from("s", NOW),
        runs.list("s"),
        runs.list(None),
        runs.overdue(NOW, 10),
        retries.due("s", NOW, 10),
        retries.list("s"),
        sources.schedules(),
        sources.page(None, 100),  # an _id range in _id order: the _id index
        sources.get_many(["s"]),
        sources.last_versions(["s"]),
        MongoJobRegistry(db).list(),
    ]


def worker_reads(db: Any) -> list[Awaitable[Any]]:
    reads, letters, raw = MongoStorageReads(db), MongoDeadLetterStore(db), MongoRawDocuments(db)
    per_source = [
        call(source)
        for source in ("s", None)
        for call in (reads.document_tallies, reads.record_counts, reads.rejected_row_counts)
    ]
    trails = [reads.audit_trail(s, d, 10) for s in ("s", None) for d in ("d", None)]
    return [
        *per_source,
        *trails,
        letters.list(False, 10),
        letters.list(True, 10),
        _drain(MongoRecordStore(db).live_keys("s")),
        _drain(MongoDatasetVersions(db).changes("v")),
        *[_drain(raw.receipts("s", document, since)) for document in ("d", None) for since in (NOW, None)],
    ]


READERS: dict[str, Callable[[Any], list[Awaitable[Any]]]] = {
    "planner": planner_reads,
    "collection-model": lambda db: [_blob(db)],
    "worker": worker_reads,
}


def shape(collection: str, kind: str, where: Mapping[str, Any], sort: tuple[tuple[str, int], ...]) -> tuple[Any, ...]:
    """What an index sees of a query: the fields, each with its operators (``=`` for a value)."""
    fields = tuple(sorted((k, tuple(sorted(v)) if isinstance(v, Mapping) else "=") for k, v in where.items()))
    return collection, kind, fields, sort


def by_id_values(where: Mapping[str, Any]) -> bool:
    """A read by ``_id`` value(s), not an ``_id`` range."""
    return "_id" in where and not (isinstance(where["_id"], Mapping) and "$gte" in where["_id"])


def declared(module: ModuleType) -> list[Query]:
    return [*module.HOT_QUERIES, *module.SCANS]


@pytest.mark.parametrize("service", MODULES)
def test_every_index_serves_a_hot_query_and_every_hot_query_has_its_index(service: str) -> None:
    module = MODULES[service]
    indexes = {i.name: i for i in module.INDEXES}
    assert len(indexes) == len(module.INDEXES), "index names repeat"
    for query in module.HOT_QUERIES:
        if query.index == "_id_":
            assert set(query.filter["_id"]) == {"$gte", "$lt"}, f"{query.reader}: _id_ serves an _id range"
            continue
        index = indexes.get(query.index)
        assert index is not None, f"{query.reader}: no declared index {query.index}"
        assert index.collection == query.collection, f"{query.reader}: {index.name} is on {index.collection}"
        assert index.keys[0][0] in query.filter, f"{query.reader} does not filter on {index.name}'s leading key"
    assert set(indexes) == {q.index for q in module.HOT_QUERIES} - {"_id_"}, "an index no hot query uses"


@pytest.mark.parametrize("service", MODULES)
def test_no_index_is_unique_a_ttl_index_is_one_field_and_every_scan_says_why(service: str) -> None:
    module = MODULES[service]
    ttl = getattr(module, "TTL_INDEXES", ())
    assert all(not i.options.get("unique") for i in (*module.INDEXES, *ttl)), "uniqueness belongs in the _id"
    assert all(len(i.keys) == 1 and "expireAfterSeconds" in i.options for i in ttl), "a TTL index is one date field"
    assert all(q.index is None and q.why for q in module.SCANS)


@pytest.mark.parametrize("service", MODULES)
async def test_the_adapters_make_exactly_the_declared_queries(service: str) -> None:
    db = RecordingDatabase()
    for read in READERS[service](db):
        await read
    made = {shape(r.collection, r.kind, r.filter, r.sort) for r in db.reads if not by_id_values(r.filter)}
    wanted = {shape(q.collection, q.kind, q.filter, q.sort): q.reader for q in declared(MODULES[service])}
    assert len(wanted) == len(declared(MODULES[service])), "two declarations of the same query shape"
    assert made - set(wanted) == set(), "queries the adapters make that mongo_indexes.py does not declare"
    assert {wanted[s] for s in set(wanted) - made} == set(), "declared queries the adapters do not make"
