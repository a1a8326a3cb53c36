"""The in-memory ``RecordStore``: current documents and closed versions under the MongoDB
adapter's keys, with the same conditions (moves on ``seq``, retimes on the old bound)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

from worker.domain.history import Retime
from worker.domain.scd2 import CurrentMove, RecordVersion, current_id, version_id


class Records:
    """``rows``: current documents (tombstones too) by ``<source>:<key>``; ``versions``: closed
    ones by ``…:v<n>``. Moves are conditional on ``seq`` like the MongoDB adapter's."""

    def __init__(self) -> None:
        self.rows: dict[str, RecordVersion] = {}
        self.versions: dict[str, RecordVersion] = {}
        self.writes = 0

    def live(self, source_id: str = "prices") -> dict[str, RecordVersion]:
        """The live current versions of a source by natural key (no tombstones)."""
        return {r.natural_key: r for r in self.rows.values() if r.source_id == source_id and r.live}

    async def current(self, source_id: str, keys: list[str]) -> dict[str, RecordVersion]:
        return {k: r for k in keys if (r := self.rows.get(current_id(source_id, k)))}

    async def archive(self, versions: list[RecordVersion]) -> None:
        for v in versions:
            vid = version_id(v.source_id, v.natural_key, v.version)
            if vid not in self.versions:
                self.versions[vid] = v
                self.writes += 1

    async def set_current(self, moves: list[CurrentMove]) -> int:
        moved = 0
        for move in moves:
            key = current_id(move.record.source_id, move.record.natural_key)
            existing = self.rows.get(key)
            expected = move.expected_seq
            if (expected is None and existing is None) or (existing and existing.last_number == expected):
                self.rows[key] = move.record
                moved += 1
        self.writes += moved
        return moved

    async def get_version(self, source_id: str, natural_key: str, version: int) -> RecordVersion | None:
        return self.versions.get(version_id(source_id, natural_key, version))

    async def history(self, source_id: str, natural_key: str) -> list[RecordVersion]:
        current = self.rows.get(current_id(source_id, natural_key))
        if current is None:
            return []
        numbers = range(1, current.last_number + 1)
        closed = [v for n in numbers if (v := self.versions.get(version_id(source_id, natural_key, n)))]
        return [*closed, current]

    async def take_number(self, source_id: str, natural_key: str, expected_seq: int) -> bool:
        key = current_id(source_id, natural_key)
        row = self.rows.get(key)
        if row is None or row.last_number != expected_seq:
            return False
        self.rows[key] = replace(row, seq=expected_seq + 1)
        return True

    async def retime(self, source_id: str, retimes: list[Retime]) -> None:
        for r in retimes:
            store, key = (
                (self.rows, current_id(source_id, r.natural_key))
                if r.current
                else (self.versions, version_id(source_id, r.natural_key, r.version))
            )
            found = store.get(key)
            if found is not None and found.version == r.version and getattr(found, r.bound) == r.old:
                store[key] = replace(found, **{r.bound: r.new})

    async def live_keys(self, source_id: str) -> AsyncIterator[str]:
        for row in list(self.rows.values()):
            if row.source_id == source_id and row.live:
                yield row.natural_key
