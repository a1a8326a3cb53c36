"""Claiming a document on its stream's head (``domain/streams``): one read, then at most one
conditional write, repeated only when another delivery wrote the head in between.

A claim is a short lease (``claim_stale_after_s``, 30 s): ``Lease`` renews it every third of
that while the delivery works, so a claim outlives its holder by at most one lease — a
redelivery after that takes the document over and resumes it (``process``) — while a live
holder keeps it however long the document takes."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from types import TracebackType

import structlog

from headwater.contracts.messages import RawDocument
from worker.domain.dedup import content_hash, raw_document_id
from worker.domain.documents import Claim, Receipt
from worker.domain.streams import claimed_head, head_id, judge, stream_key
from worker.service_layer.ports import Clock, StreamHeads

__all__ = ["POLL_S", "ClaimLost", "Lease", "StreamClaims", "receipt_of"]

log = structlog.get_logger(__name__)

POLL_S = 0.2
RACES = 5
RELEASED = datetime(1970, 1, 1, tzinfo=UTC)  # a claim given up: lapsed at once


class ClaimLost(Exception):
    """Another delivery took the document over (this one's lease had lapsed): stop writing."""


class Lease:
    """Renews a ``new`` claim while its delivery works (``async with``); on an error the claim
    is released at once, so the redelivery takes over without waiting for it to lapse."""

    def __init__(self, heads: StreamHeads, clock: Clock, head_id: str, claim: Claim, lease_s: float) -> None:
        self._heads, self._clock, self._head_id, self._claim = heads, clock, head_id, claim
        self._every = lease_s / 3
        self._task: asyncio.Task[None] | None = None
        self.lost = False

    async def __aenter__(self) -> Lease:
        self._task = asyncio.create_task(self._beat())
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if exc is not None and not isinstance(exc, ClaimLost):
            with contextlib.suppress(Exception):  # the store may be what failed: then it lapses
                await self._renew(RELEASED)

    def check(self) -> None:
        """Raise ``ClaimLost`` once a renewal found the claim taken over."""
        if self.lost:
            raise ClaimLost(self._claim.occurrence)

    async def _renew(self, at: datetime) -> bool:
        return await self._heads.renew(self._head_id, self._claim.occurrence, self._claim.owner, at)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                if not await self._renew(self._clock.now()):
                    self.lost = True
                    return
            except Exception as exc:  # the store is down: the next beat tries again
                log.warning("claim not renewed", head_id=self._head_id, error=str(exc)[:200])


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
            owner = uuid.uuid4().hex
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
                owner=owner,
            )
            if await self._heads.put(new, None if head is None else head.rev):
                return Claim("new", new.occurrence, owner)
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
