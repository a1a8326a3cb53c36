"""The planner's secondary indexes and the queries they serve (``headwater.edge.indexes``).

Every other read and conditional write of the planner is by ``_id`` (``source_configs``,
``source_config_versions``, ``jobs``, ``source_state``, a run or a failed window by id; a
batch apply's sources by a list of ids; the pages of ``sources list``, the ``_id``s after the
last one seen in ``_id`` order; the reports of a task in a run, a range of ``task_reports``
``_id``s) and needs nothing. The reads that need an index:

=====================  ======================================================  =========================
collection             query (adapter)                                         index
=====================  ======================================================  =========================
``completed_windows``  ``source_id`` =, ``to`` >, sort ``from``                ``source_id, to``
                       (``MongoStateRepository.done_windows_from``)
``runs``               ``source_id`` =, sort ``triggered_at`` desc, limit      ``source_id, triggered_at``
                       (``MongoRunRepository.list(source_id)``)
``failed_windows``     ``source_id`` =, ``state`` =, ``next_attempt_at`` ≤,    ``source_id, state,
                       sort ``window.from`` (``MongoRetryRepository.due``)     next_attempt_at``
``failed_windows``     ``source_id`` =, sort ``window.from``                   the same (its prefix)
                       (``MongoRetryRepository.list``)
``runs``               ``status`` in (planned, enqueued), ``deadline_at`` ≤,   ``status, deadline_at``
                       sort ``deadline_at`` (``MongoRunRepository.overdue``)
=====================  ======================================================  =========================

``completed_windows`` is keyed on ``to`` rather than ``from``: the query keeps the windows
ending after ``completed_until``, a handful, while the windows of a source grow for ever; the
few it finds are sorted in memory. Whole-collection reads (``SCANS``): what the periodic job sweep
compares — four fields of every source config and every job (the start-up job sync reads the
configs a page at a time) — and the latest runs of every source.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from headwater.edge.indexes import Index, Query, create_indexes

__all__ = ["HOT_QUERIES", "INDEXES", "SCANS", "ensure_indexes"]

SOURCE = "<source_id>"
WHEN = datetime(2026, 1, 1, tzinfo=UTC)

INDEXES = (
    Index("completed_windows", "completed_windows_source_to", (("source_id", 1), ("to", 1))),
    Index("runs", "runs_source_triggered", (("source_id", 1), ("triggered_at", -1))),
    Index(
        "failed_windows", "failed_windows_source_state_due", (("source_id", 1), ("state", 1), ("next_attempt_at", 1))
    ),
    Index("runs", "runs_open_deadline", (("status", 1), ("deadline_at", 1))),
)

HOT_QUERIES = (
    Query(
        "MongoStateRepository.done_windows_from",
        "completed_windows",
        {"source_id": SOURCE, "to": {"$gt": WHEN}},
        sort=(("from", 1),),
        index="completed_windows_source_to",
    ),
    Query(
        "MongoRunRepository.list(source_id)",
        "runs",
        {"source_id": SOURCE},
        sort=(("triggered_at", -1),),
        index="runs_source_triggered",
    ),
    Query(
        "MongoRetryRepository.due",
        "failed_windows",
        {"source_id": SOURCE, "state": "failing", "next_attempt_at": {"$lte": WHEN}},
        sort=(("window.from", 1),),
        index="failed_windows_source_state_due",
    ),
    Query(
        "MongoRetryRepository.list",
        "failed_windows",
        {"source_id": SOURCE},
        sort=(("window.from", 1),),
        index="failed_windows_source_state_due",
    ),
    Query(
        "MongoRunRepository.overdue",
        "runs",
        {"status": {"$in": ["planned", "enqueued"]}, "deadline_at": {"$lte": WHEN}},
        sort=(("deadline_at", 1),),
        index="runs_open_deadline",
    ),
)

SCANS = (
    Query(
        "MongoSourceRepository.schedules",
        "source_configs",
        {},
        why="whether each source wants a job (the job sweep; four fields of each, no config validated)",
    ),
    Query("MongoJobRegistry.list", "jobs", {}, why="every registered job, one per source (the job sweep)"),
    Query(
        "MongoRunRepository.list(None)",
        "runs",
        {},
        sort=(("triggered_at", -1),),
        why="the latest runs of every source (`runs list` without --source); DocumentDB 0.106 "
        "sorts in memory even with an index on the sort key",
    ),
)


async def ensure_indexes(db: AsyncDatabase[Any]) -> None:
    """Create the planner's indexes on ``db`` (idempotent; called by ``bootstrap.connect``)."""
    await create_indexes(db, INDEXES)
