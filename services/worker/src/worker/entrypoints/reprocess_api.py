"""``POST /api/v1/sources/{id}/reprocess``: send a source's stored documents through the pipeline
again with its current config (``headwater reprocess``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, ConfigDict

from headwater.edge.auth import RequireToken
from worker.entrypoints.deps import ContainerDep, http_errors

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["worker"])


class ReprocessRequest(BaseModel):
    """One document (a raw document id, one of its dataset versions, or its SHA-256), or those
    fetched at or after ``since``; neither: every stored document of the source."""

    model_config = ConfigDict(extra="forbid")
    document: str | None = None
    since: AwareDatetime | None = None


@router.post("/sources/{source_id}/reprocess", status_code=202)
async def reprocess(
    source_id: str, _auth: RequireToken, container: ContainerDep, body: ReprocessRequest | None = None
) -> dict[str, Any]:
    """Queue the documents (processed asynchronously): ``{source_id, config_version, run_id,
    queued, documents, expired, superseded}``; 404 unknown source or document."""
    request = body or ReprocessRequest()
    with http_errors():
        result = await container.reprocess.reprocess(source_id, request.document, request.since)
    return {
        "source_id": result.source_id,
        "config_version": result.config_version,
        "run_id": result.run_id,
        "queued": len(result.queued),
        "documents": result.queued,
        "expired": result.expired,
        "superseded": result.superseded,
    }
