"""In-memory fakes of the dedup and snapshot ports (``stream_heads``, ``snapshots``,
``snapshot_keys``): the same keys and conditions as ``worker.adapters.mongo_streams``."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from worker.domain.snapshots import SnapshotPart, SnapshotState
from worker.domain.streams import HeadStatus, StreamHead


class Heads:
    def __init__(self) -> None:
        self.heads: dict[str, StreamHead] = {}
        self.writes = 0

    async def get(self, head_id: str) -> StreamHead | None:
        return self.heads.get(head_id)

    async def put(self, head: StreamHead, expected_rev: int | None) -> bool:
        stored = self.heads.get(head.head_id)
        if (stored.rev if stored else None) != expected_rev:
            return False
        self.heads[head.head_id] = head
        self.writes += 1
        return True

    async def finish(self, head_id: str, occurrence: str, status: HeadStatus) -> None:
        head = self.heads.get(head_id)
        if head is not None and head.occurrence == occurrence:
            self.heads[head_id] = replace(head, status=status)

    async def renew(self, head_id: str, occurrence: str, owner: str, at: datetime) -> bool:
        head = self.heads.get(head_id)
        if head is None or (head.occurrence, head.status, head.owner) != (occurrence, "processing", owner):
            return False
        self.heads[head_id] = replace(head, claimed_at=at)
        return True

    async def rolled_back(self, head_id: str, occurrence: str) -> bool:
        head = self.heads.get(head_id)
        if head is None or head.occurrence != occurrence or head.status != "processed":
            return False
        self.heads[head_id] = replace(head, status="rolled_back", rev=head.rev + 1)
        return True


class Snapshots:
    def __init__(self) -> None:
        self.states: dict[str, SnapshotState] = {}
        self.sweep_claims: dict[str, datetime] = {}
        self.keys: dict[str, list[str]] = {}
        self.seals: dict[str, tuple[int, bool]] = {}

    async def add_part(self, part: SnapshotPart, now: datetime) -> SnapshotState:
        state = self.states.get(part.snapshot_id) or SnapshotState(
            part.source_id, part.snapshot_id, {}, None, part.fetched_at
        )
        parts = {k: list(v) for k, v in state.parts.items()}
        found = parts.setdefault(part.document_key, [])
        if part.occurrence not in found:
            found.append(part.occurrence)
        state = replace(
            state,
            parts=parts,
            end=part.end or state.end,
            first_fetched_at=min(state.first_fetched_at, part.fetched_at),
        )
        self.states[part.snapshot_id] = state
        return state

    async def claim_sweep(self, snapshot_id: str, now: datetime, stale_after_s: float) -> bool:
        state = self.states.get(snapshot_id)
        claimed = self.sweep_claims.get(snapshot_id)
        if state is None or state.swept_at is not None:
            return False
        if claimed is not None and claimed >= now - timedelta(seconds=stale_after_s):
            return False
        self.sweep_claims[snapshot_id] = now
        return True

    async def swept(self, snapshot_id: str, at: datetime) -> None:
        self.states[snapshot_id] = replace(self.states[snapshot_id], swept_at=at)

    async def write_keys(self, occurrence: str, batch: int, keys: list[str]) -> None:
        self.keys.setdefault(f"{occurrence}:{batch:06d}", list(keys))

    async def seal_keys(self, occurrence: str, batches: int, complete: bool) -> None:
        self.seals.setdefault(occurrence, (batches, complete))

    async def read_keys(self, occurrence: str) -> set[str] | None:
        seal = self.seals.get(occurrence)
        if seal is None or not seal[1]:
            return None
        return {k for n in range(1, seal[0] + 1) for k in self.keys.get(f"{occurrence}:{n:06d}", [])}
