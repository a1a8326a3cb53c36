"""``outbox`` in MongoDB (``_id`` = the message id): messages kept until they are published.

``pending`` reads the whole collection, oldest first: it holds only what failed to publish
(empty in a healthy stack), so it has no index (an index would cost every insert for nothing).
"""

from __future__ import annotations

from typing import Any

from pymongo import InsertOne
from pymongo.asynchronous.database import AsyncDatabase

from headwater.edge.mongo import retry_transient
from worker.adapters.mongo_shapes.core import aware
from worker.adapters.mongo_store import bulk
from worker.domain.outbox import OutboxMessage

__all__ = ["MongoOutbox"]

Doc = dict[str, Any]


@retry_transient()
class MongoOutbox:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._outbox = db["outbox"]

    async def add(self, messages: list[OutboxMessage]) -> None:
        docs = [
            {"_id": m.message_id, "kind": m.kind, "payload": m.payload, "created_at": m.created_at} for m in messages
        ]
        await bulk(self._outbox, [InsertOne(d) for d in docs], ignore_duplicates=True)

    async def pending(self, limit: int) -> list[OutboxMessage]:
        docs = await self._outbox.find({}).sort("created_at", 1).limit(limit).to_list()
        return [OutboxMessage(d["_id"], d["kind"], d["payload"], aware(d["created_at"])) for d in docs]

    async def remove(self, message_id: str) -> None:
        await self._outbox.delete_one({"_id": message_id})
