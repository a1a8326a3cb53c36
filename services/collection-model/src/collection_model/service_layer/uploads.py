"""Push mode: an uploaded file becomes a raw document like a fetched body.

Errors (the upload route answers each with its HTTP status and the message):

==========================  =================================================  ======
error                       raised when                                        status
==========================  =================================================  ======
``UnsupportedUploadType``   the content type is not CSV, JSON, NDJSON or XLSX  415
``UploadTooLarge``          the body passes ``max_bytes`` (reading stops)      413
``EmptyUpload``             the body is empty                                  422
``UnknownSource``           the planner does not know the source               404
==========================  =================================================  ======

A failed publish raises the publisher's own error (the client may upload again: the worker
de-duplicates by content hash).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable
from dataclasses import asdict, dataclass
from typing import Any

from collection_model.service_layer.ports import ConfigSource, Publisher
from headwater.contracts.messages import FetchTask

__all__ = [
    "UPLOAD_TYPES",
    "EmptyUpload",
    "UnknownSource",
    "UnsupportedUploadType",
    "UploadError",
    "UploadReceipt",
    "UploadService",
    "UploadTooLarge",
]

UPLOAD_TYPES = {
    "text/csv": "csv",
    "application/json": "json",
    "application/x-ndjson": "ndjson",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}


class UploadError(Exception):
    """Base of the errors an upload is refused with."""


class UnsupportedUploadType(UploadError):
    """The content type is not one of ``UPLOAD_TYPES``."""


class UploadTooLarge(UploadError):
    """The body is larger than the service accepts."""


class EmptyUpload(UploadError):
    """The body is empty."""


class UnknownSource(UploadError):
    """No source with this id."""


@dataclass(frozen=True)
class UploadReceipt:
    """What the client is told: the task the document belongs to and the body's hash and size."""

    source_id: str
    task_id: str
    sha256: str
    bytes: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class UploadService:
    def __init__(self, configs: ConfigSource, publisher: Publisher, max_bytes: int) -> None:
        self._configs, self._publisher, self._max = configs, publisher, max_bytes

    async def upload(
        self, source_id: str, content_type: str, filename: str, body: AsyncIterable[bytes]
    ) -> UploadReceipt:
        """Check the type, read at most ``max_bytes``, publish against the source's current version."""
        media_type = content_type.split(";")[0].strip()
        if media_type not in UPLOAD_TYPES:
            raise UnsupportedUploadType(f"unsupported content type {media_type!r}; use one of {sorted(UPLOAD_TYPES)}")
        content = await self._read(body)
        try:
            version = await self._configs.latest_version(source_id)
        except LookupError as exc:
            raise UnknownSource(str(exc)) from exc
        digest = hashlib.sha256(content).hexdigest()
        task = FetchTask(
            source_id=source_id,
            config_version=version,
            task_id=f"{source_id}:upload-{digest[:16]}",
            run_id=f"upload-{digest[:16]}",
        )
        linkage = {"filename": filename, "uploaded": True}
        await self._publisher.publish_document(task, f"upload/{filename}", content, media_type, linkage)
        return UploadReceipt(source_id, task.task_id, digest, len(content))

    async def _read(self, body: AsyncIterable[bytes]) -> bytes:
        content = bytearray()
        async for chunk in body:
            content += chunk
            if len(content) > self._max:
                raise UploadTooLarge(f"upload larger than {self._max} bytes")
        if not content:
            raise EmptyUpload("the upload is empty")
        return bytes(content)
