"""``dead_letters`` in MongoDB (``_id`` = the CloudEvent id)."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

__all__ = ["MongoDeadLetterStore"]


class MongoDeadLetterStore:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._letters = db["dead_letters"]

    async def add(self, letter: dict[str, Any]) -> None:
        with contextlib.suppress(DuplicateKeyError):
            await self._letters.insert_one(letter)

    async def list(self, include_replayed: bool, limit: int) -> list[dict[str, Any]]:
        query: dict[str, Any] = {} if include_replayed else {"replayed_at": None}
        return await self._letters.find(query).sort("received_at", 1).limit(limit).to_list()

    async def get(self, letter_id: str) -> dict[str, Any] | None:
        return await self._letters.find_one({"_id": letter_id})

    async def mark_replayed(self, letter_id: str, at: datetime) -> bool:
        result = await self._letters.update_one({"_id": letter_id, "replayed_at": None}, {"$set": {"replayed_at": at}})
        return result.modified_count == 1
