"""``raw_bodies`` in MongoDB: the worker's kept copy of every body it processed (shape:
``mongo_shapes.bodies``). One document per chunk, insert-or-ignore by ``_id``, chunk 0 last;
retention by the TTL index on ``expires_at`` (``raw_bodies_expiry`` in ``mongo_indexes``), and
every read checks ``expires_at`` itself too (the TTL monitor runs about once a minute)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import InsertOne
from pymongo.asynchronous.database import AsyncDatabase

from headwater.edge.mongo import is_duplicate_key, retry_transient
from worker.adapters.mongo_shapes import body_chunk_id, body_content, body_docs, body_expired
from worker.adapters.mongo_shapes.core import aware
from worker.adapters.mongo_store import bulk

__all__ = ["MongoRawBodies"]

Doc = dict[str, Any]


@retry_transient()
class MongoRawBodies:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._bodies = db["raw_bodies"]

    async def keep(self, source_id: str, content_hash: str, content: bytes, expires_at: datetime | None) -> bool:
        now = datetime.now(UTC)
        first = await self._bodies.find_one(
            {"_id": body_chunk_id(source_id, content_hash, 0)}, {"of": 1, "expires_at": 1}
        )
        if first is None or body_expired(first, now):  # an expired body's chunks may be partly removed already
            written = await self._write(body_docs(source_id, content_hash, content, now, expires_at))
            if first is None:
                return written
        await self._move_expiry(source_id, content_hash, first, expires_at)
        return False

    async def read(self, source_id: str, content_hash: str, now: datetime) -> bytes | None:
        first = await self._bodies.find_one({"_id": body_chunk_id(source_id, content_hash, 0)})
        if first is None or body_expired(first, now):
            return None
        ids = [body_chunk_id(source_id, content_hash, n) for n in range(1, first["of"])]
        rest = await self._bodies.find({"_id": {"$in": ids}}).to_list() if ids else []
        if len(rest) != len(ids):
            return None  # the TTL monitor is removing it
        return body_content([first, *rest], content_hash)

    async def kept(self, source_id: str, content_hash: str, now: datetime) -> bool:
        first = await self._bodies.find_one({"_id": body_chunk_id(source_id, content_hash, 0)}, {"expires_at": 1})
        return first is not None and not body_expired(first, now)

    async def _write(self, docs: list[Doc]) -> bool:
        """Chunks 1… first, chunk 0 last: its presence says the body is whole."""
        await bulk(self._bodies, [InsertOne(d) for d in docs[1:]], ignore_duplicates=True)
        try:
            await self._bodies.insert_one(docs[0])
        except Exception as exc:  # FerretDB may report the race as an InternalError
            if is_duplicate_key(exc):
                return False
            raise
        return True

    async def _move_expiry(self, source_id: str, content_hash: str, first: Doc, expires_at: datetime | None) -> None:
        """The retention counts from the body's latest processing (one write, only when it changes)."""
        stored = first.get("expires_at")
        if (None if stored is None else aware(stored)) == expires_at:
            return
        ids = [body_chunk_id(source_id, content_hash, n) for n in range(first["of"])]
        update = {"$set": {"expires_at": expires_at}} if expires_at else {"$unset": {"expires_at": ""}}
        await self._bodies.update_many({"_id": {"$in": ids}}, update)
