"""``/api/v1/datasets``: rolling back a dataset version (one processed document)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from headwater.edge.auth import RequireToken
from worker.entrypoints.deps import ContainerDep, http_errors

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["worker"])


@router.post("/datasets/{version_id}/rollback")
async def rollback(version_id: str, _auth: RequireToken, container: ContainerDep) -> dict[str, Any]:
    """Restore what the records were before ``version_id``: 404 unknown, 409 already rolled back."""
    with http_errors():
        result = await container.rollback.rollback(version_id)
    return asdict(result)
