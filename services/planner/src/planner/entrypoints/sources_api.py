"""``/api/v1/sources``: create/update, list, get, delete, trigger (used by the CLI)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, HTTPException
from pydantic import ValidationError

from headwater.config import SourceConfig, dump_source_config
from headwater.edge.auth import RequireToken
from planner.domain.sources import StoredSource
from planner.entrypoints.deps import ContainerDep

__all__ = ["router", "source_view"]

router = APIRouter(prefix="/api/v1/sources", tags=["sources"])


def source_view(source: StoredSource) -> dict[str, Any]:
    return {
        "source_id": source.source_id,
        "version": source.version,
        "config_hash": source.config_hash,
        "enabled": source.enabled,
        "created_at": source.created_at.isoformat(),
        "updated_at": source.updated_at.isoformat(),
        "config": dump_source_config(source.config),
    }


def _parse(source_id: str, body: dict[str, Any]) -> SourceConfig:
    """The body as a ``SourceConfig`` for ``source_id``, or 422 listing every problem."""
    try:
        config = SourceConfig.model_validate(body)
    except ValidationError as exc:
        errors = [{"path": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        raise HTTPException(422, {"message": "invalid source config", "errors": errors}) from exc
    if config.source_id != source_id:
        message = f"source_id {config.source_id!r} in the body does not match {source_id!r} in the path"
        raise HTTPException(422, {"message": message, "errors": []})
    return config


@router.put("/{source_id}")
async def apply_source(
    source_id: str, _auth: RequireToken, container: ContainerDep, body: dict[str, Any] = Body(...)
) -> dict[str, Any]:
    """Create or update a source; an identical config is a no-op (``unchanged``)."""
    result = await container.sources.apply(_parse(source_id, body))
    return {"status": result.status.value, **source_view(result.source)}


@router.get("")
async def list_sources(_auth: RequireToken, container: ContainerDep) -> list[dict[str, Any]]:
    return [source_view(s) for s in await container.sources.list()]


@router.get("/{source_id}")
async def get_source(
    source_id: str, _auth: RequireToken, container: ContainerDep, version: int | None = None
) -> dict[str, Any]:
    return source_view(await container.sources.get(source_id, version))


@router.delete("/{source_id}")
async def delete_source(source_id: str, _auth: RequireToken, container: ContainerDep) -> dict[str, Any]:
    job_deleted = await container.sources.delete(source_id)
    return {"status": "deleted", "source_id": source_id, "job": "deleted" if job_deleted else "deletion pending"}


@router.post("/{source_id}/trigger")
async def trigger_source(source_id: str, _auth: RequireToken, container: ContainerDep) -> dict[str, Any]:
    result = await container.triggers.trigger(source_id)
    return {
        "outcome": result.outcome.value,
        "source_id": source_id,
        "run_id": result.run_id,
        "work_items": result.work_items,
        "detail": result.detail,
    }
