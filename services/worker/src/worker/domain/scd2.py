"""SCD-2 history: what an incoming record does to the stored one, and how a dataset rolls back.

Storage is insert-mostly with deterministic ids, so every write is safe to repeat after a
crash or an at-least-once redelivery. The current version of a record lives at
``current_id`` = ``<source>:<key>``; a superseded version is copied, closed (``valid_to`` set,
``is_current`` false), to ``version_id`` = ``<source>:<key>:v<n>``. Inserting a closed copy
twice is a duplicate-key no-op, and moving the current document on is conditional on the
version it replaces, so a redelivered document finds ``unchanged`` (same content hash) or
loses the condition, and nothing is written twice. No multi-document transaction is needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

__all__ = [
    "HISTORY_MODES",
    "Decision",
    "DecisionKind",
    "History",
    "RecordChange",
    "RollbackStep",
    "StorePolicy",
    "StoredVersion",
    "current_id",
    "decide",
    "plan_rollback",
    "version_id",
]

History = Literal["none", "scd2"]
HISTORY_MODES: tuple[str, ...] = ("none", "scd2")
DecisionKind = Literal["insert_first", "unchanged", "new_version", "upsert_latest"]


@dataclass(frozen=True)
class StorePolicy:
    """The ``store`` section of a source config: natural key fields and history mode."""

    key: list[str]
    history: History = "scd2"

    def __post_init__(self) -> None:
        if self.history not in HISTORY_MODES:
            raise ValueError(f"unknown history {self.history!r}; known: {', '.join(HISTORY_MODES)}")


@dataclass(frozen=True)
class StoredVersion:
    """One version of a record as stored (its data is not needed to decide)."""

    natural_key: str
    version: int
    content_hash: str
    valid_from: datetime
    valid_to: datetime | None = None
    is_current: bool = True


@dataclass(frozen=True)
class Decision:
    """What to write. ``version`` is the version current afterwards; ``valid_from`` its start;
    ``closed`` is the superseded version, closed at ``now`` (``new_version`` only)."""

    kind: DecisionKind
    version: int
    valid_from: datetime | None = None
    closed: StoredVersion | None = None


def decide(current: StoredVersion | None, incoming_hash: str, now: datetime, history: str = "scd2") -> Decision:
    """``unchanged`` when the content hash is the current one; otherwise ``insert_first`` /
    ``new_version`` (scd2) or ``upsert_latest`` (history ``none``: overwrite, version counts on)."""
    if history not in HISTORY_MODES:
        raise ValueError(f"unknown history {history!r}; known: {', '.join(HISTORY_MODES)}")
    if current is not None and current.content_hash == incoming_hash:
        return Decision("unchanged", current.version, current.valid_from)
    if history == "none":
        return Decision("upsert_latest", 1 if current is None else current.version + 1, now)
    if current is None:
        return Decision("insert_first", 1, now)
    closed = replace(current, valid_to=now, is_current=False)
    return Decision("new_version", current.version + 1, now, closed)


def current_id(source_id: str, key: str) -> str:
    """``_id`` of a record's current version."""
    return f"{source_id}:{key}"


def version_id(source_id: str, key: str, version: int) -> str:
    """``_id`` of a closed (historical) version."""
    return f"{source_id}:{key}:v{version}"


@dataclass(frozen=True)
class RecordChange:
    """A record a dataset version created (``previous_version`` None) or changed."""

    natural_key: str
    new_version: int
    previous_version: int | None


@dataclass(frozen=True)
class RollbackStep:
    """Make ``restore_version`` current again, or remove the record when it is None. Apply only
    while the record is still at ``expected_version`` (a later change is a conflict)."""

    natural_key: str
    restore_version: int | None
    expected_version: int


def plan_rollback(changes: Iterable[RecordChange]) -> list[RollbackStep]:
    """One step per record, in first-seen order. When a dataset touched a key more than once,
    the state before its first change is restored and its last version is the expected one."""
    first: dict[str, RecordChange] = {}
    last: dict[str, int] = {}
    for change in changes:
        first.setdefault(change.natural_key, change)
        last[change.natural_key] = max(last.get(change.natural_key, 0), change.new_version)
    return [RollbackStep(key, change.previous_version, last[key]) for key, change in first.items()]
