"""``POST /api/v1/sources/{source_id}/uploads``: push mode (``service_layer.uploads``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from collection_model.entrypoints.deps import ContainerDep
from collection_model.service_layer.uploads import (
    EmptyUpload,
    UnknownSource,
    UnsupportedUploadType,
    UploadError,
    UploadTooLarge,
)
from headwater.edge.auth import RequireToken

__all__ = ["STATUS_CODES", "router"]

router = APIRouter(prefix="/api/v1/sources", tags=["uploads"])

STATUS_CODES: dict[type[UploadError], int] = {
    UnsupportedUploadType: 415,
    UploadTooLarge: 413,
    EmptyUpload: 422,
    UnknownSource: 404,
}


@router.post("/{source_id}/uploads", status_code=202)
async def upload(source_id: str, request: Request, _auth: RequireToken, container: ContainerDep) -> dict[str, Any]:
    """Push mode: a CSV, XLSX or JSON file becomes a raw document like a fetched body."""
    try:
        receipt = await container.uploads.upload(
            source_id,
            request.headers.get("content-type", ""),
            request.headers.get("x-filename", "upload"),
            request.stream(),
        )
    except UploadError as exc:
        raise HTTPException(STATUS_CODES[type(exc)], str(exc)) from exc
    return receipt.as_dict()
