"""A document's bytes: where they come from, and the copy the worker keeps of them.

A body travels inline (≤ 256 KiB), by claim check into collection-model's ``blobs``, or — sent
again by ``headwater reprocess`` — by reference to the worker's own copy (``raw_bodies``,
``ContentReference.store == "worker-raw"``). The worker keeps every body it processes as new
content (never a duplicate's: dedup stays one read of the stream head), once per source, with
the source's ``store.raw_retention`` counted from that processing.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Final

from headwater.config import SourceConfig
from headwater.contracts.messages import RawDocument
from worker.service_layer.errors import BodyExpired
from worker.service_layer.ports import BlobReader, RawBodies

__all__ = ["KEPT_STORE", "DocumentBodies"]

KEPT_STORE: Final = "worker-raw"


class DocumentBodies:
    """Reads bodies (inline, claim-checked, kept) and keeps them (``RawBodies``)."""

    def __init__(self, blobs: BlobReader, kept: RawBodies) -> None:
        self._blobs, self._kept = blobs, kept

    async def at_hand(self, doc: RawDocument, now: datetime) -> bytes | None:
        """The bytes when they cost nothing to judge by: inline, or the worker's kept copy
        (``BodyExpired`` when it is gone); None for a claim check, whose key is its hash and
        which is read only for new content (``claim_checked``)."""
        ref = doc.reference
        if ref is not None and ref.store == KEPT_STORE:
            content = await self._kept.read(doc.source_id, ref.sha256, now)
            if content is None:
                raise BodyExpired(f"the stored body of {ref.key} has expired or was never kept")
            return content
        if ref is not None:
            return None
        if doc.content is None:
            raise ValueError("raw document has neither content nor reference")
        return base64.b64decode(doc.content) if doc.encoding == "base64" else doc.content.encode("utf-8")

    async def claim_checked(self, doc: RawDocument) -> bytes:
        """The claim-checked body (``blobs``); raises when missing or corrupt."""
        if doc.reference is None:
            raise ValueError("raw document has no reference")
        return await self._blobs.get(doc.reference)

    async def keep(
        self, doc: RawDocument, content_hash: str, content: bytes, config: SourceConfig, now: datetime
    ) -> None:
        """Keep the body of a document processed as new content (a reprocessed one is kept already)."""
        if doc.reprocess:
            return
        retention = config.store.raw_retention if config.store is not None else None
        expires_at = None if retention is None else now + retention
        await self._kept.keep(doc.source_id, content_hash, content, expires_at)
