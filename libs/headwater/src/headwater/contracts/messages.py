"""Wire contracts: the messages that cross Dapr pub/sub between services.

Every message is a pydantic model with a ``schema_version``; fields are only ever
added (with defaults), never renamed, so old consumers keep working. These models
are the *data* of a CloudEvent: Dapr wraps them in the envelope on publish.

Commands are imperative (``FetchTask``); facts are past tense (``TaskResult``,
``DocumentStored`` in :mod:`headwater.contracts.events`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ContentReference",
    "FetchTask",
    "RawDocument",
    "TaskResult",
    "TaskStatus",
    "TimeWindow",
    "task_id_for",
]


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    schema_version: int = 1


class TimeWindow(BaseModel):
    """A half-open time range ``[from, to)`` in UTC."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")


def task_id_for(source_id: str, window: TimeWindow | None, trigger_key: str | None = None) -> str:
    """Deterministic task id: ``<source>:<from>/<to>``, or ``<source>:<trigger_key>``.

    Re-planning the same window yields the same id, which makes every consumer's
    idempotency check (and Dapr redelivery) harmless.
    """
    if window is not None:
        return f"{source_id}:{window.start.isoformat()}/{window.end.isoformat()}"
    if not trigger_key:
        raise ValueError("a task without a window needs a trigger key")
    return f"{source_id}:{trigger_key}"


class FetchTask(_Message):
    """Topic ``work-items`` (planner → collection-model): fetch one unit of work."""

    kind: Literal["fetch_task"] = "fetch_task"
    source_id: str
    config_version: int
    task_id: str
    run_id: str
    window: TimeWindow | None = None
    attempt: int = 1
    cursor: str | int | float | None = Field(
        default=None,
        description=(
            "sources with ingestion.incremental: where this fetch starts — the highest cursor value stored "
            "(ISO-8601 UTC text with Z, or a number) or, until one is, the config's initial_value"
        ),
    )
    cursor_stored: bool = Field(
        default=False,
        description=(
            "true: cursor is the highest value stored (collection-model subtracts ingestion.incremental.lag); "
            "false: it is the initial_value (sent as is)"
        ),
    )


class ContentReference(BaseModel):
    """Claim check: where a body too large to travel inline was stored (``mongodb-blobs``:
    collection-model's ``blobs``; ``worker-raw``: the worker's own copy, ``raw_bodies``, which
    ``headwater reprocess`` sends again)."""

    model_config = ConfigDict(frozen=True)
    store: Literal["mongodb-gridfs", "mongodb-blobs", "worker-raw"] = "mongodb-blobs"
    key: str
    size_bytes: int
    sha256: str


class RawDocument(_Message):
    """Topic ``raw-documents`` (collection-model → worker): one fetched or uploaded body.

    Exactly one of ``content`` (UTF-8 text or base64, see ``encoding``) and
    ``reference`` is set.
    """

    kind: Literal["raw_document"] = "raw_document"
    source_id: str
    config_version: int
    task_id: str
    run_id: str | None = None
    document_key: str = Field(description="unique within the task, e.g. page-3 or region=north")
    content_type: str
    encoding: Literal["utf-8", "base64"] = "utf-8"
    content: str | None = None
    reference: ContentReference | None = None
    linkage: dict[str, Any] = Field(default_factory=dict)
    fetched_at: datetime
    documents_in_task: int | None = Field(
        default=None,
        description="on the last document a task publishes: how many documents the task published in all",
    )
    snapshot_complete: bool | None = Field(
        default=None,
        description=(
            "on the last document a task publishes: true when every item and page of the task was fetched, "
            "false when any failed; null (unknown) never lets a snapshot-mode source delete records"
        ),
    )
    reprocess: bool = Field(
        default=False,
        description=(
            "sent again by `headwater reprocess` (worker → worker, body by reference to the worker's stored "
            "copy): processed as a new occurrence even though its bytes equal its stream's latest document"
        ),
    )


class TaskStatus(StrEnum):
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    DUPLICATE = "duplicate"


class TaskResult(_Message):
    """Topic ``task-results`` (worker, collection-model → planner): outcome of a task's part."""

    kind: Literal["task_result"] = "task_result"
    source_id: str
    task_id: str
    run_id: str | None = None
    reporter: Literal["collection-model", "worker"]
    status: TaskStatus
    document_key: str | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    error: str | None = None
    window: TimeWindow | None = None
    cursor: str | int | float | None = Field(
        default=None,
        description=(
            "worker, sources with ingestion.incremental: the highest cursor_path value of the records this "
            "document stored (ISO-8601 UTC text with Z, or a number); null for a failed or duplicate document "
            "or when no record had one"
        ),
    )
