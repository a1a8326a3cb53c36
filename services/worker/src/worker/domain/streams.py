"""Freshness-aware dedup: a document is judged against the latest document of its *stream*.

A stream is one request of a source, asked again and again: the same ``document_key``
(page, fan-out item) of the same window, or the source's upload stream. Its head
(``stream_heads``, ``_id`` = ``<source>:<stream>``) holds the content hash of the latest
document and whether it is processed. So:

- the same bytes as the head are a duplicate (redelivery, or an unchanged page fetched again);
  nothing is parsed; a later fetch time moves the head's ``fetched_at`` on;
- other bytes, fetched no earlier than the head, are a new occurrence, even when they equal an
  *older* document of the stream (A → B → A brings A's values back as new versions);
- other bytes fetched *before* the head are superseded: an older copy of the request that
  arrived late, never applied over newer data;
- while the head is being processed by another delivery the arrival waits (``busy``), so a
  stream is applied in order; a claim whose lease ran out (``claimed_at`` older than the lease:
  the delivery holding it renews it while it works, so only a dead one lets it lapse) is taken
  over, and the taker resumes the document where it stopped;
- a *rerun* (``headwater reprocess``: the stored bytes sent again under the current config) of
  the head's bytes is a new occurrence, once per rerun (the head remembers the run that made it).

Each occurrence is a dataset version with its own id, ``<source>:<sha256>:<stream tag>.<n>``
(``n`` counts the stream's occurrences), so A's second occurrence rolls back on its own. All
of it is decided on one document, written with one conditional update (``rev``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

__all__ = [
    "UPLOAD_STREAM",
    "HeadStatus",
    "StreamHead",
    "Verdict",
    "claimed_head",
    "head_id",
    "judge",
    "occurrence_id",
    "stream_key",
]

UPLOAD_STREAM = "upload"
HeadStatus = Literal["processing", "processed", "failed", "rolled_back"]
Verdict = Literal["new", "takeover", "duplicate", "superseded", "busy"]


def stream_key(source_id: str, task_id: str, document_key: str, linkage: dict[str, Any]) -> str:
    """The request a document answers. Uploads share the source's upload stream (any file
    name); a windowed task (id ``<source>:<from>/<to>``) adds its window to the document key
    (``page-2``, ``region=north/page-1``); a tick or manual task is the same request each time."""
    task = task_id.removeprefix(f"{source_id}:")
    if linkage.get("uploaded") is True or task.startswith("upload-"):
        return UPLOAD_STREAM
    if "/" in task:  # a window: <from>/<to>
        return f"{task}|{document_key}"
    return document_key


def head_id(source_id: str, stream: str) -> str:
    """``_id`` of a stream's head."""
    return f"{source_id}:{stream}"


def occurrence_id(source_id: str, content_hash: str, stream: str, seq: int) -> str:
    """The dataset version id of the ``seq``-th occurrence in ``stream`` (8 hex of its hash tag it)."""
    tag = hashlib.sha256(stream.encode("utf-8")).hexdigest()[:8]
    return f"{source_id}:{content_hash}:{tag}.{seq}"


@dataclass(frozen=True)
class StreamHead:
    """The latest document of a stream. ``rev`` counts writes: every change is conditional on it."""

    head_id: str
    source_id: str
    stream: str
    content_hash: str
    fetched_at: datetime
    occurrence: str
    seq: int
    status: HeadStatus
    claimed_at: datetime
    rev: int = 1
    task_id: str = ""
    document_key: str = ""
    run_id: str = ""
    owner: str = ""  # the delivery holding the claim (its lease renewals are conditional on it)


def judge(
    head: StreamHead | None,
    content_hash: str,
    fetched_at: datetime,
    now: datetime,
    stale_after_s: float,
    rerun: str | None = None,
) -> Verdict:
    """What an arrival is, given the head of its stream (see the module docstring); ``rerun``:
    the run id of a reprocessing delivery (None for a document as fetched or uploaded)."""
    if head is None:
        return "new"
    same = head.content_hash == content_hash
    if head.status == "processing" and head.claimed_at >= now - timedelta(seconds=stale_after_s):
        return "superseded" if not same and fetched_at < head.fetched_at else "busy"
    if same:
        if head.status in ("processing", "failed"):  # stale claim or failed (e.g. replayed from the DLQ)
            return "takeover"
        if rerun is not None and head.run_id != rerun:
            return "new"  # reprocessed on purpose (a redelivery of the same rerun is a duplicate)
        if head.status == "rolled_back" and fetched_at > head.fetched_at:
            return "new"  # sent again after its rollback
        return "duplicate"
    return "new" if fetched_at >= head.fetched_at else "superseded"


def claimed_head(
    head: StreamHead | None,
    verdict: Verdict,
    *,
    source_id: str,
    stream: str,
    content_hash: str,
    fetched_at: datetime,
    task_id: str,
    document_key: str,
    now: datetime,
    run_id: str = "",
    owner: str = "",
) -> StreamHead:
    """The head to write for a ``new`` occurrence or a ``takeover`` of the head's own. A rerun of
    the head's bytes keeps the head's later fetch time (freshness never moves back)."""
    if head is not None and verdict == "takeover":
        return replace(
            head, status="processing", claimed_at=now, rev=head.rev + 1, task_id=task_id, run_id=run_id, owner=owner
        )
    if verdict != "new":
        raise ValueError(f"no claim for a {verdict!r} arrival")
    if head is not None and head.content_hash == content_hash:
        fetched_at = max(fetched_at, head.fetched_at)
    seq = 1 if head is None else head.seq + 1
    return StreamHead(
        head_id=head_id(source_id, stream),
        source_id=source_id,
        stream=stream,
        content_hash=content_hash,
        fetched_at=fetched_at,
        occurrence=occurrence_id(source_id, content_hash, stream, seq),
        seq=seq,
        status="processing",
        claimed_at=now,
        rev=1 if head is None else head.rev + 1,
        task_id=task_id,
        document_key=document_key,
        run_id=run_id,
        owner=owner,
    )
