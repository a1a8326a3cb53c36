"""``MongoDeadLetterGauge``: ``headwater.dead_letters`` — the dead letters of ``raw-documents``
each source has that were not replayed (``dead_letters``). A Prometheus scrape reads memory
only, so ``refresh`` (a loop in the worker's lifespan) counts them again."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from headwater.metric_names import DEAD_LETTERS
from headwater.telemetry import Observation, observable_gauge

__all__ = ["MongoDeadLetterGauge"]

_latest: list[MongoDeadLetterGauge] = []  # the gauge is registered once per process; it reads the latest


def _observe_latest() -> Iterable[Observation]:
    return _latest[-1].observe() if _latest else []


class MongoDeadLetterGauge:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._letters = db["dead_letters"]
        self._counts: dict[str, int] = {}
        if not _latest:
            observable_gauge(DEAD_LETTERS.name, DEAD_LETTERS.description, DEAD_LETTERS.unit, _observe_latest)
        _latest[:] = [self]

    async def refresh(self) -> None:
        group: list[dict[str, Any]] = [
            {"$match": {"replayed_at": None}},
            {"$group": {"_id": "$source_id", "n": {"$sum": 1}}},
        ]
        counts = {str(d["_id"]): int(d["n"]) for d in await (await self._letters.aggregate(group)).to_list()}
        # a source whose letters were all replayed reports 0 (not a vanished series)
        self._counts = {**dict.fromkeys(self._counts, 0), **counts}

    def observe(self) -> Iterable[Observation]:
        return [Observation(n, {"source_id": sid}) for sid, n in self._counts.items()]
