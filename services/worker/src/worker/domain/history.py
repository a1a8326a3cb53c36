"""Late versions: a record older than its key's current version goes into the history at its
place and never becomes current (a late window, a backfill, with ``store.valid_from_path``).

The history of a key, ordered by ``valid_from`` (then version), is a chain of states: each
valid until the next one starts. A late record at time ``t`` falls into the state ``before``
it (the last one starting at or before ``t``) and the one ``after``:

- the same content as ``before``: nothing changes (the history already says so);
- the same content as ``after``: ``after`` starts earlier, at ``t``;
- otherwise a new closed version ``[t, after.valid_from)`` goes in between.

``before`` then ends at ``t``. Each write is one document and conditional on the value it
replaces, so doing it again changes nothing; the new version's number is taken from the
current document first (``CurrentMove``-like condition on ``seq``), so no two writers share one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from worker.domain.records import record_content_hash
from worker.domain.scd2 import Incoming, RecordVersion

__all__ = ["LatePlan", "Retime", "place_late", "timeline"]


@dataclass(frozen=True)
class Retime:
    """Set ``bound`` of version ``version`` (the current document when ``current``) from ``old``
    to ``new`` — only while it is still ``old``."""

    natural_key: str
    version: int
    current: bool
    bound: Literal["valid_from", "valid_to"]
    old: datetime | None
    new: datetime


@dataclass
class LatePlan:
    """Take number ``insert.version`` (while the current ``seq`` is ``expected_seq``), keep
    ``insert`` closed in the history, then apply the ``retimes``."""

    insert: RecordVersion | None = None
    expected_seq: int | None = None
    retimes: list[Retime] = field(default_factory=list)


def timeline(versions: list[RecordVersion]) -> list[RecordVersion]:
    """A key's versions in the order they were valid (``valid_from``, then version)."""
    return sorted(versions, key=lambda v: (v.valid_from, v.version))


def _same(version: RecordVersion | None, digest: str) -> bool:
    return version is not None and version.live and version.content_hash == digest


def place_late(
    versions: list[RecordVersion], current: RecordVersion, item: Incoming, dataset_version: str, now: datetime
) -> LatePlan | None:
    """Where the late ``item`` goes among ``versions`` (every version of the key, ``current``
    included); None when the history already holds it."""
    at = item.valid_from
    if at is None:
        raise ValueError("a late record needs its own valid_from")
    digest = record_content_hash(item.data)
    chain = timeline(versions)
    index = max((i for i, v in enumerate(chain) if v.valid_from <= at), default=-1)
    before = chain[index] if index >= 0 else None
    after = chain[index + 1] if index + 1 < len(chain) else None
    if _same(before, digest):
        return None
    plan = LatePlan()
    key = current.natural_key
    if after is not None and _same(after, digest):
        is_current = after.version == current.version
        plan.retimes.append(Retime(key, after.version, is_current, "valid_from", after.valid_from, at))
    else:
        number = current.last_number + 1
        plan.expected_seq = current.last_number
        plan.insert = RecordVersion(
            current.source_id,
            key,
            number,
            digest,
            item.data,
            at,
            valid_to=None if after is None else after.valid_from,
            is_current=False,
            dataset_version=dataset_version,
        )
    if before is not None:
        plan.retimes.append(Retime(key, before.version, False, "valid_to", before.valid_to, at))
    return plan
