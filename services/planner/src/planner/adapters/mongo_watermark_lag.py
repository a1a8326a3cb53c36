"""``MongoWatermarkLag``: the ``headwater.watermark.lag`` gauge — seconds between now and each
windowed source's ``completed_until`` (``source_state``). A Prometheus scrape reads memory
only, so ``refresh`` (the planner's sweep, every ``HEADWATER_SWEEP_INTERVAL``) re-reads the
watermarks and each observation computes the lag at its own time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from headwater.metric_names import WATERMARK_LAG
from headwater.telemetry import Observation, observable_gauge

__all__ = ["MongoWatermarkLag"]


_latest: list[MongoWatermarkLag] = []  # the gauge is registered once per process; it reads the latest


def _observe_latest() -> Iterable[Observation]:
    return _latest[-1].observe() if _latest else []


class MongoWatermarkLag:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._state = db["source_state"]
        self._completed: dict[str, datetime] = {}
        if not _latest:
            observable_gauge(WATERMARK_LAG.name, WATERMARK_LAG.description, "s", _observe_latest)
        _latest[:] = [self]

    async def refresh(self) -> None:
        found: dict[str, datetime] = {}
        async for doc in self._state.find({"completed_until": {"$ne": None}}, {"completed_until": 1}):
            at = doc["completed_until"]
            found[str(doc["_id"])] = at if at.tzinfo else at.replace(tzinfo=UTC)
        self._completed = found

    def observe(self) -> Iterable[Observation]:
        now = datetime.now(UTC)
        return [
            Observation(max(0.0, (now - at).total_seconds()), {"source_id": sid}) for sid, at in self._completed.items()
        ]
