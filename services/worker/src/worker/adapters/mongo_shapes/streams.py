"""The stored shapes of ``stream_heads``, ``snapshots`` and ``snapshot_keys``: domain object →
MongoDB document (or update) and back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from worker.adapters.mongo_shapes.core import aware
from worker.domain.snapshots import SnapshotEnd, SnapshotPart, SnapshotState
from worker.domain.streams import StreamHead

__all__ = [
    "snapshot_keys_doc",
    "snapshot_part",
    "snapshot_seal_doc",
    "snapshot_state",
    "stream_head",
    "stream_head_doc",
]

Doc = dict[str, Any]


def stream_head_doc(h: StreamHead) -> Doc:
    """``stream_heads``: the latest document of a stream (``_id`` = ``<source>:<stream>``)."""
    return {
        "_id": h.head_id,
        "source_id": h.source_id,
        "stream": h.stream,
        "content_hash": h.content_hash,
        "fetched_at": h.fetched_at,
        "occurrence": h.occurrence,
        "seq": h.seq,
        "status": h.status,
        "claimed_at": h.claimed_at,
        "rev": h.rev,
        "task_id": h.task_id,
        "document_key": h.document_key,
        "run_id": h.run_id,
        "owner": h.owner,
    }


def stream_head(doc: Doc) -> StreamHead:
    return StreamHead(
        head_id=doc["_id"],
        source_id=doc["source_id"],
        stream=doc["stream"],
        content_hash=doc["content_hash"],
        fetched_at=aware(doc["fetched_at"]),
        occurrence=doc["occurrence"],
        seq=doc["seq"],
        status=doc["status"],
        claimed_at=aware(doc["claimed_at"]),
        rev=doc["rev"],
        task_id=doc.get("task_id", ""),
        document_key=doc.get("document_key", ""),
        run_id=doc.get("run_id") or "",
        owner=doc.get("owner") or "",
    )


def snapshot_part(part: SnapshotPart, now: datetime) -> Doc:
    """``snapshots`` (``_id`` = ``<task_id>:<run_id>``): the upsert that records one document
    (``parts``: ``[document_key, occurrence]`` pairs), the earliest fetch time and, from the
    last document, the expected end."""
    update: Doc = {
        "$setOnInsert": {"source_id": part.source_id, "created_at": now, "swept_at": None},
        "$addToSet": {"parts": [part.document_key, part.occurrence]},
        "$min": {"first_fetched_at": part.fetched_at},
    }
    if part.end is not None:
        update["$set"] = {"documents": part.end.documents, "complete": part.end.complete}
    return update


def snapshot_state(doc: Doc) -> SnapshotState:
    parts: dict[str, list[str]] = {}
    for key, occurrence in doc.get("parts", []):
        parts.setdefault(key, []).append(occurrence)
    end = None if doc.get("documents") is None else SnapshotEnd(doc["documents"], doc["complete"])
    swept = doc.get("swept_at")
    return SnapshotState(
        doc["source_id"],
        doc["_id"],
        parts,
        end,
        aware(doc["first_fetched_at"]),
        None if swept is None else aware(swept),
    )


def snapshot_keys_doc(occurrence: str, batch: int, keys: list[str]) -> Doc:
    """``snapshot_keys``: one batch of the natural keys an occurrence held (batch 0: the seal,
    ``{batches, complete}``, written once every batch is)."""
    return {"_id": f"{occurrence}:{batch:06d}", "occurrence": occurrence, "batch": batch, "keys": keys}


def snapshot_seal_doc(occurrence: str, batches: int, complete: bool) -> Doc:
    return {
        "_id": f"{occurrence}:000000",
        "occurrence": occurrence,
        "batch": 0,
        "batches": batches,
        "complete": complete,
    }
