"""MongoDB adapter for source state: watermarks, lease, incremental cursor, scheduled tick.

All writes are single-document and safe to repeat: the lease and the tick claim are one atomic
conditional write each; ``completed_until`` (never past ``planned_until``) and the incremental
``cursor`` only move forward through a conditional update; completed windows are keyed by the
deterministic task id. (Runs: ``mongo_runs``; task reports: ``mongo_ledger``.)
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure

from headwater.contracts.messages import TimeWindow
from headwater.edge.mongo import is_duplicate_key, upsert_retrying
from planner.adapters.mongo_codec import aware, cursor_doc, cursor_from_doc, window_doc, window_from_doc
from planner.adapters.mongo_errors import store_calls
from planner.adapters.mongo_ledger import MongoTaskLedger
from planner.adapters.mongo_runs import MongoRunRepository
from planner.domain.cursor import StoredCursor
from planner.domain.runs import SourceState
from planner.domain.ticks import TickClaim

__all__ = ["MongoRunRepository", "MongoStateRepository", "MongoTaskLedger"]


@store_calls()
class MongoStateRepository:
    """``source_state`` (``_id`` = source id) and ``completed_windows`` (``_id`` = task id)."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._state = db["source_state"]
        self._done = db["completed_windows"]

    async def get(self, source_id: str) -> SourceState:
        doc = await self._state.find_one({"_id": source_id}) or {}
        return SourceState(
            source_id,
            aware(doc.get("planned_until")),
            aware(doc.get("completed_until")),
            cursor_from_doc(doc.get("cursor")),
        )

    async def try_lease(self, source_id: str, owner: str, now: datetime, ttl: timedelta) -> bool:
        lease = {"owner": owner, "expires_at": now + ttl}
        free = {"_id": source_id, "$or": [{"lease": None}, {"lease.expires_at": {"$lt": now}}, {"lease.owner": owner}]}
        try:
            doc = await self._state.find_one_and_update(
                free, {"$set": {"lease": lease}}, upsert=True, return_document=ReturnDocument.AFTER
            )
        except OperationFailure as exc:  # the document exists and its lease is held by someone else
            if is_duplicate_key(exc):
                return False
            raise
        return doc is not None and doc.get("lease", {}).get("owner") == owner

    async def release_lease(self, source_id: str, owner: str) -> None:
        await self._state.update_one({"_id": source_id, "lease.owner": owner}, {"$set": {"lease": None}})

    async def claim_tick(self, source_id: str, key: str, now: datetime, spacing: timedelta) -> bool:
        """``domain.ticks.may_claim_tick`` as one conditional upsert; a duplicate key means the
        state exists and its tick is not older: coalesced."""
        later = {"tick.key": {"$lt": key}, "tick.at": {"$lte": now - spacing}}
        try:
            await self._state.update_one(
                {"_id": source_id, "$or": [{"tick": None}, later]},
                {"$set": {"tick": {"key": key, "at": now}}},
                upsert=True,
            )
        except OperationFailure as exc:
            if is_duplicate_key(exc):
                return False
            raise
        return True

    async def release_tick(self, source_id: str, key: str) -> None:
        await self._state.update_one({"_id": source_id, "tick.key": key}, {"$set": {"tick": None}})

    async def last_tick(self, source_id: str) -> TickClaim | None:
        doc = await self._state.find_one({"_id": source_id}) or {}
        tick = doc.get("tick")
        at = aware(tick.get("at")) if tick else None
        return TickClaim(tick["key"], at) if tick and at else None

    async def set_planned_until(self, source_id: str, value: datetime, origin: datetime) -> None:
        await upsert_retrying(
            lambda: self._state.update_one({"_id": source_id}, {"$set": {"planned_until": value}}, upsert=True)
        )
        await self._state.update_one({"_id": source_id, "completed_until": None}, {"$set": {"completed_until": origin}})

    async def add_done_window(self, source_id: str, task_id: str, window: TimeWindow) -> None:
        with contextlib.suppress(DuplicateKeyError):
            await self._done.insert_one({"_id": task_id, "source_id": source_id, **window_doc(window)})

    async def done_windows_from(self, source_id: str, start: datetime) -> list[TimeWindow]:
        cursor = self._done.find({"source_id": source_id, "to": {"$gt": start}}).sort("from", 1)
        return [w for doc in await cursor.to_list() if (w := window_from_doc(doc)) is not None]

    async def advance_completed_until(self, source_id: str, value: datetime) -> bool:
        forward = {"$or": [{"completed_until": None}, {"completed_until": {"$lt": value}}]}
        result = await self._state.update_one(
            {"_id": source_id, "planned_until": {"$gte": value}, **forward},
            {"$set": {"completed_until": value}},
        )
        return result.modified_count == 1

    async def advance_cursor(self, source_id: str, cursor: StoredCursor) -> bool:
        """``domain.cursor.is_newer`` as one conditional update: the ``sort`` forms compared only
        within one kind (a datetime's fixed-width text with text, a number with a number)."""
        newer = {
            "_id": source_id,
            "$or": [{"cursor": None}, {"cursor.kind": {"$ne": cursor.kind}}, {"cursor.sort": {"$lt": cursor.sort}}],
        }
        try:
            result = await self._state.update_one(newer, {"$set": {"cursor": cursor_doc(cursor)}}, upsert=True)
        except OperationFailure as exc:  # the state exists and its cursor is as high already
            if is_duplicate_key(exc):
                return False
            raise
        return result.modified_count == 1 or result.upserted_id is not None
