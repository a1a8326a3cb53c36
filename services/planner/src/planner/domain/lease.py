"""The per-source planning lease: who may plan a source right now.

Dapr Jobs deliver a trigger at least once, and a manual trigger may race a scheduled one,
so a planner takes a short lease on the source before planning it. Taking it must be one
atomic step in the store; this module only states the rule the store applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["Lease", "can_take_lease"]


@dataclass(frozen=True)
class Lease:
    """A source's planning lease: held by ``owner`` until ``expires_at`` (aware)."""

    owner: str
    expires_at: datetime


def can_take_lease(current: Lease | None, owner: str, now: datetime) -> bool:
    """Whether ``owner`` may take (or renew) the lease at ``now``.

    Yes when there is no lease, when it expired strictly before ``now``, or when ``owner``
    already holds it (re-entrant). A lease expiring exactly at ``now`` is still held.

    The decision must be made atomically by the store, not read-then-written. The MongoDB
    adapter does it with one ``find_one_and_update`` on ``source_state`` whose filter is
    this rule::

        {"_id": source_id,
         "$or": [{"lease.expires_at": {"$lt": now}}, {"lease": None}, {"lease.owner": owner}]}

    with ``{"$set": {"lease": {"owner": owner, "expires_at": now + ttl}}}`` and
    ``upsert=True``. ``{"lease": None}`` also matches a document without a lease; a
    duplicate-key error on the upsert means the document exists and someone else holds a
    live lease, i.e. "not taken". Releasing filters on ``{"_id": source_id, "lease.owner":
    owner}`` so a planner never clears a lease that expired and was taken by another.
    Replicas' clocks must agree to well within the lease's time to live.
    """
    return current is None or current.expires_at < now or current.owner == owner
