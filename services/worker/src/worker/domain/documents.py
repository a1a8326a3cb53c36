"""What the worker writes down about each raw document: its receipt, the claim that decides
whether this delivery processes it (``domain/streams``), its dataset version, and the rows it
had to reject.

Each carries the deterministic key its stored copy lives under, so a redelivered document
writes nothing twice (the same rule as ``dedup`` and ``scd2``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

__all__ = ["Claim", "ClaimState", "DatasetVersion", "Receipt", "Rejection"]

ClaimState = Literal["new", "processed", "superseded", "in_progress"]


@dataclass(frozen=True)
class Receipt:
    """A raw document as received; ``document_id`` = ``<source>:<sha256>`` (see ``dedup``),
    ``stream`` the request it answers (``streams.stream_key``), ``rerun`` the run id of a
    reprocessing delivery (None: as fetched or uploaded)."""

    document_id: str
    source_id: str
    task_id: str
    run_id: str | None
    document_key: str
    content_hash: str
    content_type: str
    size_bytes: int
    linkage: dict[str, Any]
    fetched_at: datetime
    config_version: int
    stream: str = ""
    rerun: str | None = None


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming a receipt: ``new`` (this delivery processes ``occurrence``),
    ``processed`` (a duplicate of the stream's latest document, ``occurrence``), ``superseded``
    (older than the stream's latest document), ``in_progress`` (another delivery is on the stream)."""

    state: ClaimState
    occurrence: str
    owner: str = ""  # a ``new`` claim: the token its lease renewals are conditional on


@dataclass(frozen=True)
class DatasetVersion:
    """One processed occurrence of a document as a dataset version (id: ``streams.occurrence_id``),
    or the deletions of a snapshot of several documents (``snapshots.sweep_version_id``).
    ``stream_id``: the stream head it moved, which a rollback moves back."""

    version_id: str
    source_id: str
    task_id: str
    created_at: datetime
    counts: dict[str, int]
    rolled_back_at: datetime | None = None
    stream_id: str | None = None


@dataclass(frozen=True)
class Rejection:
    """A row that failed validation — or, with ``row`` 0 and no ``field``, a whole document
    that could not be processed — with the reason and an excerpt of the row."""

    document_id: str
    source_id: str
    task_id: str
    row: int
    field: str | None
    reason: str
    excerpt: str | None
    logged_at: datetime

    @property
    def key(self) -> str:
        """``<document>:<row>:<field>`` (``document`` for the whole document): a redelivered
        document logs nothing twice."""
        return f"{self.document_id}:{self.row}:{'document' if self.field is None else self.field}"
