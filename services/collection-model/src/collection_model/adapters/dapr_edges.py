"""collection-model's Dapr adapters: secrets, publishing documents and events (the MCP item
source, also through the sidecar, is ``adapters.mcp_client``)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from collection_model.service_layer.ports import TaskEnd
from headwater.contracts.events import TaskFailed
from headwater.contracts.messages import FetchTask, RawDocument, TaskResult
from headwater.contracts.topics import PUBSUB, RAW_DOCUMENTS, TASK_RESULTS
from headwater.edge.blobs import MongoBlobStore
from headwater.edge.events import BULK_EVENTS, publish_events
from headwater.edge.logging import secrets
from headwater.edge.sidecar import DaprError, DaprSidecar

__all__ = ["DaprDocumentPublisher", "DaprEventPublisher", "DaprSecretProvider"]

TEXT_TYPES = ("text/", "application/json", "application/x-ndjson", "application/xml", "application/csv")


class DaprSecretProvider:
    """Reads a secret at use time (``<secret>:<key>``, ``DaprSidecar.secret_value``); its value
    is registered with the log masker, never kept."""

    def __init__(self, sidecar: DaprSidecar) -> None:
        self._sidecar = sidecar

    async def get_secret(self, store: str, key: str) -> str:
        try:
            value = await self._sidecar.secret_value(store, key)
        except DaprError as exc:
            raise LookupError(f"secret {key!r} not readable from store {store!r} (HTTP {exc.status})") from None
        if not value:
            raise LookupError(f"secret {key!r} is empty in store {store!r}")
        secrets.register(value)
        return value


class DaprDocumentPublisher:
    """One ``raw-documents`` message per fetched body: inline below ``inline_limit`` bytes,
    otherwise stored once in ``blobs`` and passed by reference (claim check)."""

    def __init__(self, sidecar: DaprSidecar, blobs: MongoBlobStore, inline_limit: int) -> None:
        self._sidecar = sidecar
        self._blobs = blobs
        self._limit = inline_limit

    async def publish_document(
        self, task: FetchTask, document_key: str, content: bytes, content_type: str, linkage: dict[str, Any]
    ) -> None:
        await self.publish_documents(task, [(document_key, content, content_type, linkage)])

    async def publish_documents(
        self, task: FetchTask, docs: list[tuple[str, bytes, str, dict[str, Any]]], end: TaskEnd | None = None
    ) -> None:
        """Many documents of one task in one bulk publish (each keeps its own CloudEvent id);
        ``end`` goes on the last of them (``documents_in_task``, ``snapshot_complete``)."""
        entries = []
        for n, (document_key, content, content_type, linkage) in enumerate(docs, start=1):
            fields: dict[str, Any] = {
                "source_id": task.source_id,
                "config_version": task.config_version,
                "task_id": task.task_id,
                "run_id": task.run_id,
                "document_key": document_key,
                "content_type": content_type,
                "linkage": linkage,
                "fetched_at": datetime.now(UTC),
            }
            if end is not None and n == len(docs):
                fields.update(documents_in_task=end.documents, snapshot_complete=end.complete)
            if len(content) > self._limit:
                fields["reference"] = await self._blobs.put(content)
            elif content_type.startswith(TEXT_TYPES) and _is_utf8(content):
                fields["content"] = content.decode("utf-8")
            else:
                fields.update(content=base64.b64encode(content).decode("ascii"), encoding="base64")
            doc = RawDocument.model_validate(fields)
            entries.append(
                (
                    document_key,
                    doc.model_dump(mode="json", by_alias=True),
                    {"cloudevent.id": f"raw:{task.task_id}:{document_key}"},
                )
            )
        if len(entries) == 1:
            await self._sidecar.publish(PUBSUB, RAW_DOCUMENTS, entries[0][1], metadata=entries[0][2])
        else:
            await self._sidecar.publish_bulk(PUBSUB, RAW_DOCUMENTS, entries)

    async def publish_result(self, result: TaskResult) -> None:
        await self._sidecar.publish(PUBSUB, TASK_RESULTS, result.model_dump(mode="json", by_alias=True))


class DaprEventPublisher:
    """Domain events on ``ingestion-events`` (``headwater.edge.events``), several in bulk calls
    of at most ``batch``."""

    def __init__(self, sidecar: DaprSidecar, batch: int = BULK_EVENTS) -> None:
        self._sidecar = sidecar
        self._batch = batch

    async def publish_events(self, events: Sequence[TaskFailed]) -> None:
        await publish_events(self._sidecar, events, self._batch)


def _is_utf8(content: bytes) -> bool:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
