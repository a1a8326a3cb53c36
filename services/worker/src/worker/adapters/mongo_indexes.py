"""The worker's secondary indexes and the queries they serve (``headwater.edge.indexes``).

Dedup, the record store's reads and conditional writes, snapshots and dataset versions go by
``_id`` (or ``_id`` ``$in``) and need nothing: ``stream_heads``, ``record_versions``,
``dataset_versions``, ``snapshots`` and ``snapshot_keys`` have no secondary index;
``raw_bodies`` (kept bodies, read by ``_id``) has only its TTL index (``TTL_INDEXES``). The reads
that need one:

===================  =========================================================  ==========================
collection           query (adapter)                                            index
===================  =========================================================  ==========================
``raw_documents``    ``source_id`` =, ``fetched_at`` ≥ (optional), sort         ``source_id, fetched_at``
                     ``fetched_at, _id`` (``receipts``: what to reprocess); the
                     ``$match`` ``source_id`` = of ``document_tallies(source)``
``records``          ``_id`` in ``<source>:…``, ``deleted`` ≠ true              ``_id_`` (range)
                     (``live_keys``, the ``$match`` of ``record_counts``)
``parsing_logs``     ``$match`` ``_id`` in ``<source>:…``                       ``_id_`` (range)
                     (``rejected_row_counts``)
``dataset_changes``  ``version_id`` =, sort ``_id`` (``changes``: a rollback)   ``version_id, _id``
``audit``            ``source_id`` =, sort ``at`` desc, limit                   ``source_id, at``
``audit``            ``document_id`` = (and ``source_id`` =), sort ``at`` desc  ``document_id, at``
``dead_letters``     ``replayed_at`` = null, sort ``received_at``, limit        ``replayed_at,
                     (``dlq list``)                                             received_at``
===================  =========================================================  ==========================

``records`` and ``parsing_logs`` are the collections the worker writes most, and every secondary
index costs each insert (a ``source_id`` index on ``records`` took the 50k-row ingest from 0.16
to 0.09 of the raw insert rate), so they get none: their ``_id``s start with ``<source>:``
(``scd2.current_id``, ``Rejection.key``), and ``of_source`` reads one source as an ``_id``
range, which the ``_id_`` index serves. ``raw_documents`` (one document per fetch) keeps its
index, and nothing indexes the ``status``, ``deleted`` or grouping keys. ``receipts`` of one document
filters on ``_id`` as well and takes the ``_id`` index. Whole-collection
reads (``SCANS``): the summary over every source, the newest audit entries of every source and
every dead letter including replayed ones; DocumentDB 0.106 sorts in memory even with an index
on the sort key, so none gets an index of its own.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from headwater.edge.indexes import Index, Query, create_indexes

__all__ = ["HOT_QUERIES", "INDEXES", "OBSOLETE", "SCANS", "TTL_INDEXES", "ensure_indexes", "of_source"]

SOURCE = "<source_id>"
LIVE = {"deleted": {"$ne": True}}
NEWEST = (("at", -1),)
FETCHED = (("fetched_at", 1), ("_id", 1))
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def of_source(source_id: str) -> dict[str, Any]:
    """The documents of ``source_id`` in a collection whose ``_id``s start with ``<source>:``
    (source ids never hold ``:``, and ``;`` is the character after it)."""
    return {"_id": {"$gte": f"{source_id}:", "$lt": f"{source_id};"}}


SOURCE_IDS = of_source(SOURCE)
# dropped at start-up where an earlier version created them (they slowed every insert)
OBSOLETE = (("records", "records_source"), ("parsing_logs", "parsing_logs_source"))

INDEXES = (
    Index("raw_documents", "raw_documents_source_fetched", (("source_id", 1), ("fetched_at", 1))),
    Index("dataset_changes", "dataset_changes_version", (("version_id", 1), ("_id", 1))),
    Index("audit", "audit_source_at", (("source_id", 1), ("at", -1))),
    Index("audit", "audit_document_at", (("document_id", 1), ("at", -1))),
    Index("dead_letters", "dead_letters_pending", (("replayed_at", 1), ("received_at", 1))),
)

# serve no query: MongoDB's TTL monitor removes a kept body once its store.raw_retention is over
TTL_INDEXES = (Index("raw_bodies", "raw_bodies_expiry", (("expires_at", 1),), {"expireAfterSeconds": 0}),)

HOT_QUERIES = (
    Query(
        "MongoRawDocuments.receipts(source)",
        "raw_documents",
        {"source_id": SOURCE},
        sort=FETCHED,
        index="raw_documents_source_fetched",
    ),
    Query(
        "MongoRawDocuments.receipts(source, since)",
        "raw_documents",
        {"source_id": SOURCE, "fetched_at": {"$gte": WHEN}},
        sort=FETCHED,
        index="raw_documents_source_fetched",
    ),
    Query(
        "MongoStorageReads.document_tallies(source)",
        "raw_documents",
        {"source_id": SOURCE},
        index="raw_documents_source_fetched",
        kind="aggregate",
    ),
    Query("MongoRecordStore.live_keys", "records", {**SOURCE_IDS, **LIVE}, index="_id_"),
    Query("MongoStorageReads.record_counts(source)", "records", {**SOURCE_IDS, **LIVE}, index="_id_", kind="aggregate"),
    Query("MongoStorageReads.rejected_row_counts(source)", "parsing_logs", SOURCE_IDS, index="_id_", kind="aggregate"),
    Query(
        "MongoDatasetVersions.changes",
        "dataset_changes",
        {"version_id": "<version_id>"},
        sort=(("_id", 1),),
        index="dataset_changes_version",
    ),
    Query(
        "MongoStorageReads.audit_trail(source)", "audit", {"source_id": SOURCE}, sort=NEWEST, index="audit_source_at"
    ),
    Query(
        "MongoStorageReads.audit_trail(document)",
        "audit",
        {"document_id": "<document_id>"},
        sort=NEWEST,
        index="audit_document_at",
    ),
    Query(
        "MongoStorageReads.audit_trail(source, document)",
        "audit",
        {"source_id": SOURCE, "document_id": "<document_id>"},
        sort=NEWEST,
        index="audit_document_at",
    ),
    Query(
        "MongoDeadLetterStore.list(pending)",
        "dead_letters",
        {"replayed_at": None},
        sort=(("received_at", 1),),
        index="dead_letters_pending",
    ),
)

SCANS = (
    Query("MongoStorageReads.document_tallies(None)", "raw_documents", {}, kind="aggregate", why="every source"),
    Query("MongoStorageReads.record_counts(None)", "records", LIVE, kind="aggregate", why="every source"),
    Query("MongoStorageReads.rejected_row_counts(None)", "parsing_logs", {}, kind="aggregate", why="every source"),
    Query("MongoStorageReads.audit_trail(None)", "audit", {}, sort=NEWEST, why="the newest entries of every source"),
    Query(
        "MongoDeadLetterStore.list(all)",
        "dead_letters",
        {},
        sort=(("received_at", 1),),
        why="every dead letter, replayed ones too",
    ),
)


async def ensure_indexes(db: AsyncDatabase[Any]) -> None:
    """Create the worker's indexes on ``db`` (idempotent; called by ``bootstrap.connect``)."""
    await create_indexes(db, (*INDEXES, *TTL_INDEXES))
    for collection, name in OBSOLETE:
        with contextlib.suppress(OperationFailure):  # not there: nothing to drop
            await db[collection].drop_index(name)
