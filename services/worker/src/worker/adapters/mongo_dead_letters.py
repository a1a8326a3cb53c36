"""``dead_letters`` in MongoDB (``_id`` = the CloudEvent id)."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from worker.adapters.mongo_shapes import dead_letter, dead_letter_doc
from worker.domain.dead_letters import DeadLetter

__all__ = ["MongoDeadLetterStore"]


class MongoDeadLetterStore:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._letters = db["dead_letters"]

    async def add(self, letter: DeadLetter) -> None:
        with contextlib.suppress(DuplicateKeyError):
            await self._letters.insert_one(dead_letter_doc(letter))

    async def list(self, include_replayed: bool, limit: int) -> list[DeadLetter]:
        query: dict[str, Any] = {} if include_replayed else {"replayed_at": None}
        return [dead_letter(d) for d in await self._letters.find(query).sort("received_at", 1).limit(limit).to_list()]

    async def get(self, letter_id: str) -> DeadLetter | None:
        doc = await self._letters.find_one({"_id": letter_id})
        return None if doc is None else dead_letter(doc)

    async def mark_replayed(self, letter_id: str, at: datetime) -> bool:
        result = await self._letters.update_one({"_id": letter_id, "replayed_at": None}, {"$set": {"replayed_at": at}})
        return result.modified_count == 1
