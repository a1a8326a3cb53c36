"""The in-memory read side of the worker's collections (``StorageReads``), over the state of
the write-side fakes in ``worker_fakes``, answering as the MongoDB aggregations do."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from worker.domain.audit import AuditEntry, AuditReprocess, AuditRollback, AuditStep
from worker.domain.scd2 import RecordVersion
from worker.domain.summary import DocumentTally

if TYPE_CHECKING:
    from worker_fake_records import Records
    from worker_fakes import Audit, Log, Raw


class Reads:
    """The read side over the other fakes' state, answering as the MongoDB aggregations do."""

    def __init__(self, raw: Raw, records: Records, log: Log, audit: Audit) -> None:
        self._raw, self._records, self._log, self._audit = raw, records, log, audit

    async def audit_trail(self, source_id: str | None, document_id: str | None, limit: int) -> list[AuditEntry]:
        entries = [_entry(e) for e in self._audit.entries.values()]
        chosen = [
            e
            for e in entries
            if (not source_id or e.source_id == source_id) and (not document_id or e.document_id == document_id)
        ]
        return sorted(chosen, key=lambda e: e.at, reverse=True)[:limit]

    async def document_tallies(self, source_id: str | None) -> list[DocumentTally]:
        documents: Counter[tuple[str, str]] = Counter()
        duplicates: Counter[tuple[str, str]] = Counter()
        for state in self._raw.docs.values():
            sid = state.receipt.source_id if state.receipt else ""
            if not source_id or sid == source_id:
                documents[(sid, state.status)] += 1
                duplicates[(sid, state.status)] += state.duplicates
        return [DocumentTally(s, st, n, duplicates[(s, st)]) for (s, st), n in documents.items()]

    async def record_counts(self, source_id: str | None) -> dict[str, int]:
        return dict(
            Counter(
                r.source_id
                for r in self._records.rows.values()
                if r.live and (not source_id or r.source_id == source_id)
            )
        )

    async def record_history(self, source_id: str, natural_key: str) -> list[RecordVersion]:
        return await self._records.history(source_id, natural_key)

    async def rejected_row_counts(self, source_id: str | None) -> dict[str, int]:
        return dict(
            Counter(e.source_id for e in self._log.entries.values() if not source_id or e.source_id == source_id)
        )


def _entry(e: AuditStep | AuditRollback | AuditReprocess) -> AuditEntry:
    if isinstance(e, AuditRollback):
        return AuditEntry(e.at, e.source_id, e.version_id, None, e.step, e.outcome, e.counts, None)
    return AuditEntry(e.at, e.source_id, e.document_id, e.task_id, e.step, e.outcome, e.counts, e.error)
