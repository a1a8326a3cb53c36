"""``/api/v1/sources``: create/update (one, or a batch), list (paginated), get, delete, trigger
(used by the CLI)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query
from pydantic import ValidationError

from headwater.config import SourceConfig, dump_source_config
from headwater.edge.auth import RequireToken
from planner.domain.sources import StoredSource
from planner.entrypoints.deps import ContainerDep
from planner.service_layer.sources import MAX_PAGE, BatchItem

MAX_BATCH = 1000

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


@router.put("")
async def apply_sources(
    _auth: RequireToken, container: ContainerDep, body: list[dict[str, Any]] = Body(..., max_length=MAX_BATCH)
) -> dict[str, Any]:
    """Create or update up to 1,000 sources in one call (``headwater sources apply`` sends a
    folder this way). Every config is validated first: one invalid config is a 422 listing
    every problem (paths prefixed with its position) and nothing is applied. Then each is
    applied as ``PUT /{source_id}`` would; ``results`` holds, in order, each one's ``status``
    and ``version`` — or its ``reason`` and ``error``: ``conflict`` (not stored),
    ``scheduler_unavailable`` or ``job_failed`` (stored; its job is registered by the sweep)."""
    configs, errors = [], []
    for i, item in enumerate(body):
        try:
            configs.append(SourceConfig.model_validate(item))
        except ValidationError as exc:
            errors += [
                {"path": f"[{i}]." + ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
            ]
    if errors:
        raise HTTPException(422, {"message": "invalid source config(s); nothing was applied", "errors": errors})
    return {"results": [_batch_view(item) for item in await container.sources.apply_many(configs)]}


def _batch_view(item: BatchItem) -> dict[str, Any]:
    view: dict[str, Any] = {
        "source_id": item.source_id,
        "status": item.status.value if item.status else None,
        "version": item.version,
    }
    return view | ({"reason": item.reason, "error": item.error} if item.reason else {})


@router.get("")
async def list_sources(
    _auth: RequireToken,
    container: ContainerDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    after: Annotated[str | None, Query(description="the last source_id of the previous page")] = None,
) -> list[dict[str, Any]]:
    """The sources in id order, ``limit`` (default 100, at most 1,000) at a time: a full page
    means there may be more — ask again with ``after`` = its last ``source_id``."""
    return [source_view(s) for s in await container.sources.page(after, limit)]


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
