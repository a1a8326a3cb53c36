"""``/api/v1/audit`` and ``/api/v1/summary``: what the worker did and what it stores."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from headwater.edge.auth import RequireToken
from worker.domain.audit import AuditEntry
from worker.entrypoints.deps import ContainerDep

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["worker"])


def _entry(e: AuditEntry) -> dict[str, Any]:
    return {
        "at": e.at.isoformat(),
        "source_id": e.source_id,
        "document_id": e.document_id,
        "task_id": e.task_id,
        "step": e.step,
        "outcome": e.outcome,
        "counts": e.counts,
        "error": e.error,
    }


@router.get("/audit")
async def audit(
    _auth: RequireToken,
    container: ContainerDep,
    source: str | None = None,
    document: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The audit trail: one entry per step (dedup, store, failure, rollback) with counts and outcome."""
    return [_entry(e) for e in await container.views.audit_trail(source, document, limit)]


@router.get("/summary")
async def summary(_auth: RequireToken, container: ContainerDep, source: str | None = None) -> dict[str, Any]:
    """Storage metrics per source: documents stored / duplicate / failed, records, rejected rows."""
    result = await container.views.summary(source)
    return {"sources": result.sources, "counters": result.counters}
