"""Reprocessing stored documents with the source's current config (``headwater reprocess``).

The source's contents (``raw_documents``: one, or those fetched since a time, or all) are sent
again on ``raw-documents`` — by reference to the worker's kept copy (``raw_bodies``), with the
source's current config version and ``reprocess: true`` — so each goes through the same
pipeline as any document, asynchronously, retried and dead-lettered: a new occurrence (dataset
version, events, audit) whose records change only where the current mapping makes them differ.

Only the latest document of a stream is reprocessed: an older one was replaced by it, so its
values are not the current ones (reported ``superseded``). A document whose kept body has
expired (``store.raw_retention``) is reported ``expired``. Each request is one run
(``reprocess-<hex>``), which the worker applies once per document (``domain/streams``); the
request, and what became of each document, is audited under the step ``reprocess``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import structlog

from headwater.contracts.messages import ContentReference, RawDocument
from headwater.contracts.topics import RAW_DOCUMENTS
from worker.domain.audit import AuditReprocess
from worker.domain.dedup import raw_document_of
from worker.domain.documents import Receipt
from worker.domain.streams import head_id
from worker.service_layer.bodies import KEPT_STORE
from worker.service_layer.errors import NotFound
from worker.service_layer.ports import AuditLog, Clock, ConfigSource, RawBodies, RawDocuments, Republisher, StreamHeads

__all__ = ["ReprocessResult", "ReprocessService"]

log = structlog.get_logger(__name__)

Fate = Literal["queued", "expired", "superseded"]


@dataclass(frozen=True)
class ReprocessResult:
    """What one request did: the raw document ids it queued, and those it could not."""

    source_id: str
    config_version: int
    run_id: str
    queued: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)


class ReprocessService:
    def __init__(
        self,
        raw: RawDocuments,
        bodies: RawBodies,
        heads: StreamHeads,
        configs: ConfigSource,
        publisher: Republisher,
        audit: AuditLog,
        clock: Clock,
    ) -> None:
        self._raw, self._bodies, self._heads, self._configs = raw, bodies, heads, configs
        self._publisher, self._audit, self._clock = publisher, audit, clock

    async def reprocess(
        self, source_id: str, document: str | None = None, since: datetime | None = None
    ) -> ReprocessResult:
        """Queue the source's stored documents (``document``: a raw document id, one of its
        occurrences or its SHA-256; ``since``: fetched at or after). ``NotFound`` when the source
        or the named document is unknown."""
        try:
            version = await self._configs.latest_version(source_id)
        except LookupError as exc:
            raise NotFound(f"source {source_id!r} not found") from exc
        document_id = None if document is None else raw_document_of(source_id, document)
        if document is not None and document_id is None:
            raise NotFound(f"{document!r} is not a document id of source {source_id!r}")
        result = ReprocessResult(source_id, version, f"reprocess-{uuid.uuid4().hex[:12]}")
        now = self._clock.now()
        async for receipt in self._raw.receipts(source_id, document_id, since):
            fate = await self._one(receipt, result, now)
            getattr(result, fate).append(receipt.document_id)
        if document_id is not None and not (result.queued or result.expired or result.superseded):
            raise NotFound(f"document {document_id!r} not found")
        log.info(
            "documents queued for reprocessing",
            source_id=source_id,
            run_id=result.run_id,
            config_version=version,
            queued=len(result.queued),
            expired=len(result.expired),
            superseded=len(result.superseded),
        )
        return result

    async def _one(self, receipt: Receipt, result: ReprocessResult, now: datetime) -> Fate:
        """Queue one document if it is still its stream's latest and its body is kept."""
        head = await self._heads.get(head_id(receipt.source_id, receipt.stream))
        fate: Fate = "queued"
        error = None
        if head is not None and head.content_hash != receipt.content_hash:
            fate, error = "superseded", f"its stream's latest document is {head.occurrence}"
        elif not await self._bodies.kept(receipt.source_id, receipt.content_hash, now):
            fate, error = "expired", "its body is no longer kept (store.raw_retention)"
        else:
            fetched_at = receipt.fetched_at if head is None else max(receipt.fetched_at, head.fetched_at)
            message = _message(receipt, result.config_version, result.run_id, fetched_at)
            await self._publisher.republish(RAW_DOCUMENTS, message.model_dump(mode="json"))
        await self._audit.write(
            AuditReprocess(
                receipt.document_id,
                receipt.source_id,
                receipt.task_id,
                result.run_id,
                fate,
                now,
                result.config_version,
                error,
            )
        )
        return fate


def _message(receipt: Receipt, config_version: int, run_id: str, fetched_at: datetime) -> RawDocument:
    """The document again, as its first sighting was, with the body by reference to the kept copy;
    fetched as late as its stream's latest fetch of it (so it is that stream's latest again)."""
    return RawDocument(
        source_id=receipt.source_id,
        config_version=config_version,
        task_id=receipt.task_id,
        run_id=run_id,
        document_key=receipt.document_key,
        content_type=receipt.content_type,
        reference=ContentReference(
            store=KEPT_STORE, key=receipt.document_id, size_bytes=receipt.size_bytes, sha256=receipt.content_hash
        ),
        linkage=receipt.linkage,
        fetched_at=fetched_at,
        reprocess=True,
    )
