"""``/api/v1/sources``: create/update, list, get, delete, trigger (used by the CLI)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, HTTPException, Request
from pydantic import ValidationError

from headwater.config import SourceConfig
from headwater.edge.auth import RequireToken
from planner.domain.sources import StoredSource
from planner.service_layer.sources import ConcurrentUpdateError, SourceService
from planner.service_layer.triggers import TriggerOutcome, TriggerService

router = APIRouter(prefix="/api/v1/sources", tags=["sources"])


def _view(source: StoredSource) -> dict[str, Any]:
    return {
        "source_id": source.source_id,
        "version": source.version,
        "config_hash": source.config_hash,
        "enabled": source.enabled,
        "created_at": source.created_at.isoformat(),
        "updated_at": source.updated_at.isoformat(),
        "config": source.config,
    }


def _sources(request: Request) -> SourceService:
    return request.app.state.container.sources


def _triggers(request: Request) -> TriggerService:
    return request.app.state.container.triggers


@router.put("/{source_id}")
async def apply_source(
    source_id: str, request: Request, _auth: RequireToken, body: dict[str, Any] = Body(...)
) -> dict[str, Any]:
    """Create or update a source; an identical config is a no-op (``unchanged``)."""
    try:
        config = SourceConfig.model_validate(body)
    except ValidationError as exc:
        errors = [{"path": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        raise HTTPException(422, {"message": "invalid source config", "errors": errors}) from exc
    if config.source_id != source_id:
        raise HTTPException(
            422,
            {
                "message": f"source_id {config.source_id!r} in the body does not match {source_id!r} in the path",
                "errors": [],
            },
        )
    try:
        result = await _sources(request).apply(config)
    except ConcurrentUpdateError as exc:
        raise HTTPException(409, str(exc)) from exc
    return {"status": result.status.value, **_view(result.source)}


@router.get("")
async def list_sources(request: Request, _auth: RequireToken) -> list[dict[str, Any]]:
    return [_view(s) for s in await _sources(request).list()]


@router.get("/{source_id}")
async def get_source(
    source_id: str, request: Request, _auth: RequireToken, version: int | None = None
) -> dict[str, Any]:
    service = _sources(request)
    source = await (service.get_version(source_id, version) if version else service.get(source_id))
    if source is None:
        raise HTTPException(404, f"source {source_id!r} not found" + (f" at version {version}" if version else ""))
    return _view(source)


@router.delete("/{source_id}")
async def delete_source(source_id: str, request: Request, _auth: RequireToken) -> dict[str, Any]:
    if not await _sources(request).delete(source_id):
        raise HTTPException(404, f"source {source_id!r} not found")
    return {"status": "deleted", "source_id": source_id}


@router.post("/{source_id}/trigger")
async def trigger_source(source_id: str, request: Request, _auth: RequireToken) -> dict[str, Any]:
    result = await _triggers(request).trigger(source_id)
    if result.outcome is TriggerOutcome.SOURCE_DELETED:
        raise HTTPException(404, f"source {source_id!r} not found")
    return {
        "outcome": result.outcome.value,
        "source_id": source_id,
        "run_id": result.run_id,
        "work_items": result.work_items,
        "detail": result.detail,
    }
