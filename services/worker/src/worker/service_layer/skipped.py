"""A document that is not processed: a duplicate of its stream's latest document, an older
copy arriving after a newer one (superseded), or a reprocessed one whose kept body expired.
Announced, reported, never parsed."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import structlog

from headwater.contracts.events import DocumentDuplicate, TaskFailed
from headwater.contracts.messages import RawDocument, TaskStatus
from worker.domain.documents import Receipt
from worker.service_layer.outcomes import Processed, Unprocessable
from worker.service_layer.ports import EventPublisher
from worker.service_layer.trail import DocumentTrail

__all__ = ["announce_expired", "announce_skipped"]

log = structlog.get_logger(__name__)


async def announce_skipped(
    events: EventPublisher,
    trail: DocumentTrail,
    doc: RawDocument,
    receipt: Receipt,
    document_id: str,
    now: datetime,
    superseded: bool,
) -> Processed:
    """Audit, announce (``document.duplicate`` with its reason) and report a skipped document;
    ``document_id``: the occurrence it duplicates, or (superseded) its own raw document id."""
    reason: Literal["same_content", "superseded"] = "superseded" if superseded else "same_content"
    await trail.step(trail.first_step, "superseded" if superseded else "duplicate", {})
    await events.publish(
        DocumentDuplicate(
            idempotency_key=f"document.duplicate:{document_id}:{doc.task_id}:{doc.document_key}",
            source_id=doc.source_id,
            occurred_at=now,
            task_id=doc.task_id,
            document_id=document_id,
            content_hash=receipt.content_hash,
            reason=reason,
        )
    )
    counts = {"superseded" if superseded else "duplicates": 1}
    await trail.report(TaskStatus.DUPLICATE, counts=counts)
    log.info("document not processed", reason=reason, source_id=doc.source_id, document_id=document_id)
    return Processed(TaskStatus.DUPLICATE, document_id, counts)


async def announce_expired(
    events: EventPublisher, trail: DocumentTrail, doc: RawDocument, document_id: str, now: datetime, error: str
) -> Unprocessable:
    """A reprocessed document whose kept body is gone: audited (``reprocess``/``expired``),
    announced as ``task.failed`` and dead-lettered; its stream and records stay as they are."""
    await trail.step(trail.first_step, "expired", {}, error)
    await events.publish(
        TaskFailed(
            idempotency_key=f"task.failed:{document_id}:{doc.run_id}",
            source_id=doc.source_id,
            occurred_at=now,
            task_id=doc.task_id,
            document_id=document_id,
            stage="fetch",
            error=error,
        )
    )
    log.error("reprocessed document has no body any more", source_id=doc.source_id, document_id=document_id)
    return Unprocessable(document_id, error)
