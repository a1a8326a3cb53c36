"""``/api/v1/records/history``: every version of one record, in the order they were valid."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from headwater.edge.auth import RequireToken
from worker.domain.scd2 import RecordVersion
from worker.entrypoints.deps import ContainerDep, http_errors

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["worker"])


def _version(v: RecordVersion) -> dict[str, Any]:
    return {
        "version": v.version,
        "valid_from": v.valid_from.isoformat(),
        "valid_to": v.valid_to.isoformat() if v.valid_to else None,
        "current": v.is_current and v.valid_to is None,
        "deleted": v.deleted,
        "dataset_version": v.dataset_version,
        "data": v.data,
    }


@router.get("/records/history")
async def record_history(source: str, key: str, _auth: RequireToken, container: ContainerDep) -> dict[str, Any]:
    """One key's versions (natural keys hold '/' and '|', so source and key travel as query
    parameters): ``{source_id, key, versions: [{version, valid_from, valid_to, current, deleted,
    dataset_version, data}]}``; 404 when the source never stored the key."""
    with http_errors():
        versions = await container.views.record_history(source, key)
    return {"source_id": source, "key": key, "versions": [_version(v) for v in versions]}
