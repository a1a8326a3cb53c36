"""Claiming a document on its stream's head (``domain/streams``): one read, then at most one
conditional write, repeated only when another delivery wrote the head in between."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from headwater.contracts.messages import RawDocument
from worker.domain.dedup import content_hash, raw_document_id
from worker.domain.documents import Claim, Receipt
from worker.domain.streams import claimed_head, head_id, judge, stream_key
from worker.service_layer.ports import Clock, StreamHeads

__all__ = ["POLL_S", "StreamClaims", "receipt_of"]

POLL_S = 0.2
RACES = 5


class StreamClaims:
    """Decides, per delivery, whether it processes its document. While another delivery of the
    same stream is under way it waits up to ``wait_s`` (so a stream is applied in order without
    spending Dapr's few redeliveries), then answers ``in_progress``."""

    def __init__(self, heads: StreamHeads, clock: Clock, stale_after_s: float, wait_s: float) -> None:
        self._heads, self._clock, self._stale, self._wait = heads, clock, stale_after_s, wait_s

    async def claim(self, receipt: Receipt) -> Claim:
        waited = 0.0
        while True:
            claim = await self._once(receipt)
            if claim.state != "in_progress" or waited >= self._wait:
                return claim
            await asyncio.sleep(POLL_S)
            waited += POLL_S

    async def _once(self, receipt: Receipt) -> Claim:
        hid = head_id(receipt.source_id, receipt.stream)
        for _ in range(RACES):
            head = await self._heads.get(hid)
            now = self._clock.now()
            verdict = judge(head, receipt.content_hash, receipt.fetched_at, now, self._stale, receipt.rerun)
            if verdict == "busy":
                return Claim("in_progress", "" if head is None else head.occurrence)
            if head is not None and verdict == "superseded":
                return Claim("superseded", head.occurrence)
            if head is not None and verdict == "duplicate":
                if receipt.fetched_at > head.fetched_at:  # the stream's latest fetch: older copies are late
                    await self._heads.put(replace(head, fetched_at=receipt.fetched_at, rev=head.rev + 1), head.rev)
                return Claim("processed", head.occurrence)
            new = claimed_head(
                head,
                verdict,
                source_id=receipt.source_id,
                stream=receipt.stream,
                content_hash=receipt.content_hash,
                fetched_at=receipt.fetched_at,
                task_id=receipt.task_id,
                document_key=receipt.document_key,
                now=now,
                run_id=receipt.rerun or receipt.run_id or "",
            )
            if await self._heads.put(new, None if head is None else head.rev):
                return Claim("new", new.occurrence)
        return Claim("in_progress", "")


def receipt_of(doc: RawDocument, content: bytes | None) -> Receipt:
    """The receipt of ``doc``. A claim-checked body is content-addressed (its key is its SHA-256,
    checked when read), so a duplicate is recognised without fetching it. A reprocessed
    document is a rerun under its run id (``headwater reprocess`` gives each request one)."""
    if doc.reference is not None:
        digest, size = doc.reference.sha256, doc.reference.size_bytes
    else:
        digest, size = content_hash(content or b""), len(content or b"")
    return Receipt(
        document_id=raw_document_id(doc.source_id, digest),
        source_id=doc.source_id,
        task_id=doc.task_id,
        run_id=doc.run_id,
        document_key=doc.document_key,
        content_hash=digest,
        content_type=doc.content_type,
        size_bytes=size,
        linkage=doc.linkage,
        fetched_at=doc.fetched_at,
        config_version=doc.config_version,
        stream=stream_key(doc.source_id, doc.task_id, doc.document_key, doc.linkage),
        rerun=(doc.run_id or "reprocess") if doc.reprocess else None,
    )
