"""What one delivery of a document leaves behind besides its data: audit steps and its task result."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from headwater.config import IncrementalSpec
from headwater.contracts.messages import RawDocument, TaskResult, TaskStatus
from worker.domain.audit import AuditStep
from worker.domain.cursor import CursorMax
from worker.service_layer.ports import AuditLog, Clock, ResultPublisher

__all__ = ["DocumentTrail"]

_STORED = (TaskStatus.SUCCEEDED, TaskStatus.PARTIAL)


class DocumentTrail:
    """Audit steps of one delivery of ``doc`` (stored as ``document_id``) and its task result.
    A reprocessing delivery names its first step ``reprocess`` (not ``dedup``) and reports no
    task result: it is no fetch of the planner's."""

    def __init__(
        self, doc: RawDocument, document_id: str, audit: AuditLog, results: ResultPublisher, clock: Clock
    ) -> None:
        self._doc, self._id = doc, document_id
        self._audit, self._results, self._clock = audit, results, clock
        self._cursor: CursorMax | None = None

    def stored(self, incremental: IncrementalSpec | None, records: Iterable[dict[str, Any]]) -> None:
        """Records of this document now stored: with ``ingestion.incremental`` their highest cursor
        goes into the task result (a failed or duplicate document reports none)."""
        if incremental is None:
            return
        if self._cursor is None:
            self._cursor = CursorMax(incremental.cursor_path, incremental.kind)
        self._cursor.add(records)

    @property
    def first_step(self) -> str:
        """The step that judged the delivery against its stream."""
        return "reprocess" if self._doc.reprocess else "dedup"

    async def step(self, step: str, outcome: str, counts: dict[str, int], error: str | None = None) -> None:
        doc = self._doc
        await self._audit.write(
            AuditStep(
                document_id=self._id,
                source_id=doc.source_id,
                task_id=doc.task_id,
                document_key=doc.document_key,
                step=step,
                outcome=outcome,
                counts=counts,
                at=self._clock.now(),
                error=error,
            )
        )

    async def report(self, status: TaskStatus, counts: dict[str, int] | None = None, error: str | None = None) -> None:
        """The document's outcome back to the planner (``task-results``)."""
        result = self.result(status, counts, error)
        if result is not None:
            await self._results.publish(result)

    def result(
        self, status: TaskStatus, counts: dict[str, int] | None = None, error: str | None = None
    ) -> TaskResult | None:
        """The task result ``report`` publishes (None for a reprocessing delivery)."""
        doc = self._doc
        if doc.reprocess:
            return None
        return TaskResult(
            source_id=doc.source_id,
            task_id=doc.task_id,
            run_id=doc.run_id,
            reporter="worker",
            status=status,
            document_key=doc.document_key,
            counts=counts or {},
            error=error,
            cursor=self._cursor.value if self._cursor and status in _STORED else None,
        )
