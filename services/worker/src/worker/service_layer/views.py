"""The operator API's reads: the audit trail, the storage summary and one key's history (no
writes, no events)."""

from __future__ import annotations

from dataclasses import dataclass

from worker.domain.audit import AuditEntry
from worker.domain.history import timeline
from worker.domain.scd2 import RecordVersion
from worker.domain.summary import SourceFigures, summarize
from worker.service_layer.errors import NotFound
from worker.service_layer.ports import Metrics, StorageReads

__all__ = ["MAX_AUDIT_ENTRIES", "StorageViews", "Summary"]

MAX_AUDIT_ENTRIES = 1000


@dataclass(frozen=True)
class Summary:
    """Figures per source, and this process's counters (``headwater.*``) since it started."""

    sources: dict[str, SourceFigures]
    counters: dict[str, int]


class StorageViews:
    def __init__(self, reads: StorageReads, metrics: Metrics) -> None:
        self._reads, self._metrics = reads, metrics

    async def audit_trail(
        self, source_id: str | None = None, document_id: str | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        """Newest first, at most ``MAX_AUDIT_ENTRIES``; an empty filter means every source/document."""
        return await self._reads.audit_trail(source_id or None, document_id or None, min(limit, MAX_AUDIT_ENTRIES))

    async def summary(self, source_id: str | None = None) -> Summary:
        """Documents stored / duplicate / failed, records and rejected rows per source."""
        source_id = source_id or None
        sources = summarize(
            await self._reads.document_tallies(source_id),
            await self._reads.record_counts(source_id),
            await self._reads.rejected_row_counts(source_id),
        )
        return Summary(sources, self._metrics.snapshot())

    async def record_history(self, source_id: str, natural_key: str) -> list[RecordVersion]:
        """Every version of a key in the order they were valid (a deletion is a tombstone
        version); ``NotFound`` when the source never stored the key."""
        versions = await self._reads.record_history(source_id, natural_key)
        if not versions:
            raise NotFound(f"no record {natural_key!r} in source {source_id!r}")
        return timeline(versions)
