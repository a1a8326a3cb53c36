"""Domain events on ``ingestion-events``: a published contract (see docs/asyncapi.yaml).

Each event is the data of a CloudEvent whose ``type`` is the event's ``type`` field, and
carries an ``idempotency_key``: the same fact announced twice (at-least-once delivery)
has the same key, so subscribers can drop repeats.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "EVENT_MODELS",
    "DocumentDuplicate",
    "DocumentStored",
    "DomainEvent",
    "RecordsChanged",
    "RecordsRolledBack",
    "TaskFailed",
]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    schema_version: int = 1
    idempotency_key: str
    source_id: str
    occurred_at: datetime


class DocumentStored(_Event):
    """A new document was parsed and its records stored."""

    type: Literal["document.stored"] = "document.stored"
    task_id: str
    document_id: str
    content_hash: str
    dataset_version: str
    rows: int
    rows_valid: int
    rows_rejected: int
    linkage: dict[str, object] = Field(default_factory=dict)


class DocumentDuplicate(_Event):
    """A document that was not parsed: its content is what its stream (the same request) last
    delivered (``same_content``), or it was fetched before the stream's latest document and
    arrived late (``superseded``)."""

    type: Literal["document.duplicate"] = "document.duplicate"
    task_id: str
    document_id: str
    content_hash: str
    reason: Literal["same_content", "superseded"] = "same_content"


class RecordsChanged(_Event):
    """Records created, changed or deleted by one dataset version, in batches of at most
    ``events.records_changed_batch`` keys (``batch`` counts from 1; ``last`` marks the final batch).
    ``deleted``: keys a complete snapshot no longer holds (``store.mode: snapshot``)."""

    type: Literal["records.changed"] = "records.changed"
    dataset_version: str
    batch: int
    last: bool
    created: list[str]
    updated: list[str]
    deleted: list[str] = Field(default_factory=list)


class RecordsRolledBack(_Event):
    """A dataset version was rolled back; its records were restored."""

    type: Literal["records.rolled_back"] = "records.rolled_back"
    dataset_version: str
    restored: int
    removed: int


class TaskFailed(_Event):
    """A fetch failed (stage ``fetch``, from the collection-model, after its retries) or a document
    could not be processed at all (stage ``parse``/``store``, from the worker; it was dead-lettered)."""

    type: Literal["task.failed"] = "task.failed"
    task_id: str
    document_id: str | None = None
    stage: Literal["fetch", "parse", "store"]
    error: str


DomainEvent = Annotated[
    DocumentStored | DocumentDuplicate | RecordsChanged | RecordsRolledBack | TaskFailed, Field(discriminator="type")
]
EVENT_MODELS: dict[str, type[_Event]] = {
    m.model_fields["type"].default: m
    for m in (DocumentStored, DocumentDuplicate, RecordsChanged, RecordsRolledBack, TaskFailed)
}
