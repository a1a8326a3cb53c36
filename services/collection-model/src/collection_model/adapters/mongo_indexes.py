"""collection-model's secondary indexes and the queries they serve (``headwater.edge.indexes``).

collection-model owns ``blobs``, the claim checks of bodies over the inline limit, written by
``MongoBlobStore.put`` (``headwater.edge.blobs``; its existence check is by ``_id``). The
worker reads a body back with ``MongoBlobStore.get``:

==========  =====================================  ===============
collection  query (adapter)                        index
==========  =====================================  ===============
``blobs``   ``sha256`` =, sort ``n`` (the chunks)  ``sha256, n``
==========  =====================================  ===============

Blobs are few and large (4 MiB chunks), so the index costs next to nothing on writes.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from headwater.edge.indexes import Index, Query, create_indexes

__all__ = ["HOT_QUERIES", "INDEXES", "SCANS", "ensure_indexes"]

INDEXES = (Index("blobs", "blobs_sha256_n", (("sha256", 1), ("n", 1))),)

HOT_QUERIES = (Query("MongoBlobStore.get", "blobs", {"sha256": "<sha256>"}, sort=(("n", 1),), index="blobs_sha256_n"),)

SCANS: tuple[Query, ...] = ()


async def ensure_indexes(db: AsyncDatabase[Any]) -> None:
    """Create collection-model's indexes on ``db`` (idempotent; called by ``bootstrap.connect``)."""
    await create_indexes(db, INDEXES)
