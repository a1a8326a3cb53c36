"""UploadService: push mode turns a body into a raw document, or refuses it with a typed error."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from cm_fakes import Harness  # type: ignore[import-not-found]

from collection_model.service_layer.uploads import (
    EmptyUpload,
    UnknownSource,
    UnsupportedUploadType,
    UploadTooLarge,
)
from headwater.config import SourceConfig

Start = Callable[..., Awaitable[Harness]]
PRICES = SourceConfig.model_validate({"source_id": "prices", "ingestion": {"mode": "push"}})
CSV = b"sku,price\na,1\n"


class Body:
    """An upload arriving in chunks; records how many were read."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)
        self.read = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.read += 1
            yield chunk


async def test_an_upload_becomes_a_raw_document_of_the_current_version(harness: Start) -> None:
    h = await harness(configs=(PRICES, PRICES))  # versions 1 and 2
    receipt = await h.container.uploads.upload("prices", "text/csv; charset=utf-8", "p.csv", Body(CSV[:5], CSV[5:]))
    digest = hashlib.sha256(CSV).hexdigest()
    assert receipt.as_dict() == {"source_id": "prices", "task_id": f"prices:upload-{digest[:16]}", "sha256": digest,
                                 "bytes": len(CSV)}  # fmt: skip
    [doc] = h.publisher.documents
    assert (doc.key, doc.content, doc.content_type) == ("upload/p.csv", CSV, "text/csv")
    assert doc.linkage == {"filename": "p.csv", "uploaded": True}
    assert (doc.task.config_version, doc.task.run_id, doc.task.task_id) == (2, f"upload-{digest[:16]}", receipt.task_id)


async def test_an_unsupported_type_is_refused_before_reading(harness: Start) -> None:
    h, body = await harness(configs=(PRICES,)), Body(CSV)
    with pytest.raises(UnsupportedUploadType, match=r"unsupported content type 'text/plain'; use one of \["):
        await h.container.uploads.upload("prices", "text/plain", "p.txt", body)
    assert body.read == 0 and h.publisher.documents == []


async def test_reading_stops_past_the_limit(harness: Start) -> None:
    h, body = await harness(configs=(PRICES,), max_upload_bytes=10), Body(*[b"123456"] * 5)
    with pytest.raises(UploadTooLarge, match="upload larger than 10 bytes"):
        await h.container.uploads.upload("prices", "application/json", "p.json", body)
    assert body.read == 2 and h.publisher.documents == []


async def test_an_empty_upload_and_an_unknown_source_are_refused(harness: Start) -> None:
    h = await harness(configs=(PRICES,))
    with pytest.raises(EmptyUpload, match="the upload is empty"):
        await h.container.uploads.upload("prices", "text/csv", "p.csv", Body())
    with pytest.raises(UnknownSource, match="source 'gone' not found"):
        await h.container.uploads.upload("gone", "text/csv", "p.csv", Body(CSV))
    assert h.publisher.documents == []
