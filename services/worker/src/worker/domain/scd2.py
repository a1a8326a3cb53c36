"""SCD-2 history: what incoming records, deletions and rollbacks do to the stored versions.

Storage is insert-mostly with deterministic ids, so every write is safe to repeat after a
crash or an at-least-once redelivery. A key's current state lives at ``current_id`` =
``<source>:<key>``: its current version, or a *tombstone* (``deleted``) once a snapshot no
longer holds the key. A superseded version (tombstones too) is copied, closed (``valid_to``
set, ``is_current`` false), to ``version_id`` = ``<source>:<key>:v<n>``. Version numbers are
handed out by the current document: ``seq`` is the highest number given so far (a version
placed into the past takes one too), and every move of the current document is conditional
on it, so a redelivered document finds ``unchanged`` (same content hash) or loses the
condition, and nothing is written twice. No multi-document transaction is needed.

Validity: a version is valid from ``valid_from`` (processing time, or the record's own time
with ``store.valid_from_path``) until the next one's ``valid_from``. A record older than the
current version is *late*: it goes into the history at its place (``domain/history``), never
current.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from worker.domain.records import record_content_hash

__all__ = [
    "HISTORY_MODES",
    "ChangeKind",
    "CurrentMove",
    "History",
    "Incoming",
    "MergePlan",
    "RecordChange",
    "RecordVersion",
    "current_id",
    "deletions",
    "merge",
    "net_changes",
    "version_id",
]

History = Literal["none", "scd2"]
HISTORY_MODES: tuple[str, ...] = ("none", "scd2")
ChangeKind = Literal["created", "updated", "deleted"]


def current_id(source_id: str, key: str) -> str:
    """``_id`` of a key's current version (or tombstone)."""
    return f"{source_id}:{key}"


def version_id(source_id: str, key: str, version: int) -> str:
    """``_id`` of a closed (historical) version."""
    return f"{source_id}:{key}:v{version}"


@dataclass(frozen=True)
class RecordChange:
    """A record a dataset version created, updated or deleted (made a tombstone): the version
    current afterwards and the one before (None: there was none)."""

    natural_key: str
    new_version: int
    previous_version: int | None
    kind: ChangeKind | None = None

    def __post_init__(self) -> None:
        if self.kind is None:
            object.__setattr__(self, "kind", "created" if self.previous_version is None else "updated")


@dataclass(frozen=True)
class RecordVersion:
    """A version of a record as stored: the current one (``records``: ``valid_to`` None,
    ``is_current``), a closed one (``record_versions``) or a tombstone (``deleted``: the key is
    absent since ``valid_from``; no data). ``seq`` (current documents): the highest version
    number handed out for the key. ``fetched_at``: when the document that wrote it was fetched
    (a snapshot deletes only what documents fetched before it wrote)."""

    source_id: str
    natural_key: str
    version: int
    content_hash: str
    data: dict[str, Any]
    valid_from: datetime
    valid_to: datetime | None = None
    is_current: bool = True
    dataset_version: str | None = None
    updated_at: datetime | None = None
    deleted: bool = False
    seq: int = 0
    fetched_at: datetime | None = None

    @property
    def last_number(self) -> int:
        """The highest version number given to this key; the next is one more."""
        return max(self.seq, self.version)

    @property
    def live(self) -> bool:
        return not self.deleted

    def closed(self, at: datetime) -> RecordVersion:
        """The copy kept in the history when this version is superseded ``at``."""
        return replace(self, valid_to=at, is_current=False, updated_at=None, seq=0)

    def restored(self, version: int, at: datetime, dataset_version: str) -> RecordVersion:
        """This historical content made current again as ``version`` (history only grows)."""
        return replace(
            self,
            version=version,
            valid_from=at,
            valid_to=None,
            is_current=not self.deleted,
            dataset_version=dataset_version,
            updated_at=at,
            seq=version,
        )

    def tombstone(
        self, version: int, at: datetime, dataset_version: str, fetched_at: datetime | None = None
    ) -> RecordVersion:
        """The key deleted ``at``, as version ``version``."""
        return replace(
            self,
            version=version,
            content_hash="",
            data={},
            valid_from=at,
            valid_to=None,
            is_current=False,
            dataset_version=dataset_version,
            updated_at=at,
            deleted=True,
            seq=version,
            fetched_at=fetched_at or self.fetched_at,
        )


@dataclass(frozen=True)
class CurrentMove:
    """Make ``record`` the key's current document while the stored one's ``seq`` is still
    ``expected_seq`` (None: while there is none): the condition that makes a repeat a no-op."""

    record: RecordVersion
    expected_seq: int | None


@dataclass(frozen=True)
class Incoming:
    """A record to store: its data and, with ``store.valid_from_path``, its own valid-from time;
    ``digest``: its content hash when already computed (``records.record_content_hash``)."""

    data: dict[str, Any]
    valid_from: datetime | None = None
    digest: str = ""


@dataclass
class MergePlan:
    """The writes that store a set of incoming records: closed copies to ``archive`` first,
    then the ``moves`` of the current documents. ``late``: records older than their key's
    current version, to place into the history (``domain/history``)."""

    archive: list[RecordVersion] = field(default_factory=list)
    moves: list[CurrentMove] = field(default_factory=list)
    changes: list[RecordChange] = field(default_factory=list)
    late: dict[str, Incoming] = field(default_factory=dict)
    unchanged: int = 0


def _replace_current(
    plan: MergePlan, stored: RecordVersion | None, record: RecordVersion, at: datetime, history: str
) -> None:
    """Archive ``stored`` closed ``at`` (with history), then move ``record`` over it."""
    if stored is not None and history == "scd2":
        plan.archive.append(stored.closed(at))
    previous = None if stored is None else stored.version
    kind: ChangeKind = "deleted" if record.deleted else "created" if stored is None or stored.deleted else "updated"
    plan.moves.append(CurrentMove(record, None if stored is None else stored.last_number))
    plan.changes.append(RecordChange(record.natural_key, record.version, previous, kind))


def merge(
    source_id: str,
    dataset_version: str,
    incoming: dict[str, Incoming],
    current: dict[str, RecordVersion],
    now: datetime,
    history: str = "scd2",
    fetched_at: datetime | None = None,
) -> MergePlan:
    """Decide, per natural key, what ``incoming`` does to the ``current`` documents: nothing
    (same content hash), a first version, a new version (closing the old one when the history
    is kept; a tombstone's key comes back as ``created``), or — a record older than the current
    version — a late one. A first version costs one write, a change two."""
    if history not in HISTORY_MODES:
        raise ValueError(f"unknown history {history!r}; known: {', '.join(HISTORY_MODES)}")
    plan = MergePlan()
    for key, item in incoming.items():
        digest = item.digest or record_content_hash(item.data)
        stored = current.get(key)
        if stored is not None and stored.live and stored.content_hash == digest:
            plan.unchanged += 1
            continue
        at = item.valid_from or now
        if stored is not None and item.valid_from is not None and at < stored.valid_from:
            plan.late[key] = item
            continue
        number = 1 if stored is None else stored.last_number + 1
        record = RecordVersion(
            source_id,
            key,
            number,
            digest,
            item.data,
            at,
            dataset_version=dataset_version,
            updated_at=now,
            seq=number,
            fetched_at=fetched_at,
        )
        _replace_current(plan, stored, record, at, history)
    return plan


def deletions(
    dataset_version: str,
    current: list[RecordVersion],
    now: datetime,
    history: str = "scd2",
    fetched_at: datetime | None = None,
) -> MergePlan:
    """Tombstones for the live ``current`` versions a complete snapshot no longer holds, each
    closed at ``now`` (never before its own ``valid_from``)."""
    plan = MergePlan()
    for stored in current:
        if not stored.live:
            continue
        at = max(now, stored.valid_from)
        stone = stored.tombstone(stored.last_number + 1, at, dataset_version, fetched_at)
        _replace_current(plan, stored, stone, at, history)
    return plan


def net_changes(changes: list[RecordChange]) -> list[RecordChange]:
    """One change per key, in first-seen order, for a dataset version that touched a key more
    than once: from the version before its first change to the one its last change made."""
    first: dict[str, RecordChange] = {}
    last: dict[str, RecordChange] = {}
    for change in changes:
        first.setdefault(change.natural_key, change)
        last[change.natural_key] = change
    return [
        RecordChange(key, last[key].new_version, change.previous_version, last[key].kind)
        for key, change in first.items()
    ]
