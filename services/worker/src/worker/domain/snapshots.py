"""Snapshot mode (``store.mode: snapshot``): every complete delivery is the whole source, so a
key it no longer holds is closed as deleted (a tombstone, ``domain/scd2.deletions``).

Deleting on a partial picture would be wrong, so a snapshot deletes only when it is known to be
complete:

- a *single-document* snapshot — an upload, or a source whose request has neither pagination nor
  fan-out — is complete once its document is processed (a failed fetch sends nothing);
- a snapshot of several documents (pages, fan-out items) is the documents of one task run
  (``<task_id>:<run_id>``). Its last document carries ``documents_in_task`` and
  ``snapshot_complete`` (every item and page fetched); the snapshot is swept once that many
  documents have arrived and it was complete. Unknown (None) never deletes.

A document with a rejected row whose natural key cannot be read makes its snapshot's key set
incomplete: nothing is deleted then either (a rejected row with a readable key keeps its record).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["SnapshotEnd", "SnapshotPart", "SnapshotScope", "SnapshotState", "snapshot_scope", "sweep_version_id"]


@dataclass(frozen=True)
class SnapshotEnd:
    """What the last document of a snapshot says about it."""

    documents: int
    complete: bool


@dataclass(frozen=True)
class SnapshotScope:
    """The snapshot a document belongs to: ``single`` (the document is all of it), or one of
    several documents of ``snapshot_id``; ``end`` is set on the last of them."""

    snapshot_id: str
    single: bool
    end: SnapshotEnd | None = None


def snapshot_scope(
    task_id: str,
    run_id: str | None,
    *,
    uploaded: bool,
    single_request: bool,
    documents_in_task: int | None,
    snapshot_complete: bool | None,
) -> SnapshotScope:
    """The scope of one document (``uploaded``: it is in the upload stream; ``single_request``:
    the source's request yields one document per task)."""
    snapshot_id = f"{task_id}:{run_id or '-'}"
    end = None
    if documents_in_task is not None and snapshot_complete is not None:
        end = SnapshotEnd(documents_in_task, snapshot_complete)
    single = uploaded or single_request or (end is not None and end.documents == 1 and end.complete)
    return SnapshotScope(snapshot_id, single, end)


def sweep_version_id(snapshot_id: str) -> str:
    """The dataset version of a multi-document snapshot's deletions (its documents have their own)."""
    return f"{snapshot_id}:sweep"


@dataclass(frozen=True)
class SnapshotPart:
    """One document of a multi-document snapshot, as it arrived (processed, or a duplicate of
    ``occurrence``, its stream's latest)."""

    source_id: str
    snapshot_id: str
    document_key: str
    occurrence: str
    fetched_at: datetime
    end: SnapshotEnd | None = None


@dataclass(frozen=True)
class SnapshotState:
    """A multi-document snapshot as recorded so far: the occurrences of each document key and
    when its earliest document was fetched (records written later are never its to delete)."""

    source_id: str
    snapshot_id: str
    parts: dict[str, list[str]]
    end: SnapshotEnd | None
    first_fetched_at: datetime
    swept_at: datetime | None = None

    @property
    def ready(self) -> bool:
        """Every document arrived, the fetch was complete, and nobody swept it yet."""
        end = self.end
        return end is not None and end.complete and len(self.parts) >= end.documents and self.swept_at is None

    @property
    def occurrences(self) -> list[str]:
        return sorted({o for found in self.parts.values() for o in found})
