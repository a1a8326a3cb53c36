"""The planner's ports: every protocol its service layer depends on, and nothing else.

Adapters implement them over MongoDB (``adapters/mongo_*.py``), the Dapr sidecar
(``DaprJobsClient``, ``DaprWorkPublisher``) and OpenTelemetry (``OtelPlannerMetrics``);
``bootstrap.connect`` picks those. Unit tests pass the in-memory fakes of
``tests/unit/planner/planner_fakes.py`` to ``bootstrap.build``; they behave like the real thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from headwater.config.incremental import CursorValue
from headwater.contracts.messages import FetchTask, TaskResult, TimeWindow
from planner.domain.cursor import StoredCursor
from planner.domain.jobs import RegisteredJob
from planner.domain.progress import StoredReport
from planner.domain.retries import WindowRetry
from planner.domain.runs import Run, SourceState
from planner.domain.sources import SourceSchedule, StoredSource
from planner.domain.ticks import TickClaim
from planner.service_layer.outcomes import TriggerResult

__all__ = [
    "ApiTokens",
    "Clock",
    "JobRegistry",
    "JobScheduler",
    "Metrics",
    "Planning",
    "RetryRepository",
    "RunRepository",
    "SourceRepository",
    "StateRepository",
    "TaskLedger",
    "TaskProgress",
    "WorkPublisher",
]


class Clock(Protocol):
    """The current time, timezone-aware."""

    def now(self) -> datetime: ...


class Metrics(Protocol):
    """What planning did: counts and durations by name, with attributes (``source_id``, …);
    the adapter maps each name to an exported instrument (``headwater.metric_names``)."""

    def count(self, name: str, amount: int, **attributes: str) -> None: ...

    def observe(self, name: str, seconds: float, **attributes: str) -> None:
        """A duration (``run_duration``)."""
        ...


class ApiTokens(Protocol):
    """The operator API token the HTTP API checks (settings, else the Dapr secret store)."""

    async def token(self) -> str | None: ...


class SourceRepository(Protocol):
    """``source_configs`` (current) and ``source_config_versions`` (every version, insert-only).

    A stored config that no longer validates is left out of ``get_many`` and ``page`` (and logged)."""

    async def get(self, source_id: str) -> StoredSource | None: ...

    async def get_many(self, source_ids: Sequence[str]) -> dict[str, StoredSource]:
        """The current sources of ``source_ids`` that exist, by id (one read)."""
        ...

    async def get_version(self, source_id: str, version: int) -> StoredSource | None: ...

    async def page(self, after: str | None, limit: int) -> list[StoredSource]:
        """Up to ``limit`` current sources with an id after ``after`` (all when None), in id order."""
        ...

    async def schedules(self) -> list[SourceSchedule]:
        """Whether each current source wants a job, without reading whole configs (the job sweep)."""
        ...

    async def save(self, source: StoredSource) -> bool:
        """Store ``source`` if the stored version is ``source.version - 1`` (or absent for 1).
        Returns False when another writer got there first."""
        ...

    async def save_many(self, sources: Sequence[StoredSource]) -> list[bool]:
        """``save`` of each (distinct ids), in far fewer round trips; the answers in order."""
        ...

    async def delete(self, source_id: str) -> bool:
        """Delete the current config, leaving a tombstone with its version (so the id can be created
        again, numbering on); False when there was no such source."""
        ...

    async def last_version(self, source_id: str) -> int:
        """The version of a deleted source (its tombstone), 0 when the id was never used."""
        ...

    async def last_versions(self, source_ids: Sequence[str]) -> dict[str, int]:
        """``last_version`` of each id that was used (one read)."""
        ...


class JobRegistry(Protocol):
    """The ``jobs`` collection: what was registered with the Dapr scheduler."""

    async def get(self, source_id: str) -> RegisteredJob | None: ...

    async def list(self) -> list[RegisteredJob]: ...

    async def put(self, job: RegisteredJob) -> None: ...

    async def put_many(self, jobs: Sequence[RegisteredJob]) -> None:
        """``put`` of each (distinct sources) in one write."""
        ...

    async def remove(self, source_id: str) -> None: ...


class JobScheduler(Protocol):
    """The Dapr Jobs API (owned by ``DaprJobsClient``)."""

    async def schedule(self, name: str, schedule: str, data: dict[str, Any]) -> None:
        """Register (overwriting) a repeating job; ``SchedulerUnavailable`` when it cannot."""
        ...

    async def delete(self, name: str) -> None:
        """Delete the job (a missing one too); ``SchedulerUnavailable`` when the scheduler does not answer."""
        ...

    async def get(self, name: str) -> dict[str, Any] | None: ...


class WorkPublisher(Protocol):
    """Publishes work items on ``work-items``."""

    async def publish(self, task: FetchTask) -> None: ...


class StateRepository(Protocol):
    """``source_state``: watermarks, the incremental cursor and the planning lease of each source."""

    async def get(self, source_id: str) -> SourceState: ...

    async def try_lease(self, source_id: str, owner: str, now: datetime, ttl: timedelta) -> bool:
        """Take (or renew) the source's lease atomically; False when another owner holds a live one."""
        ...

    async def release_lease(self, source_id: str, owner: str) -> None: ...

    async def claim_tick(self, source_id: str, key: str, now: datetime, spacing: timedelta) -> bool:
        """Claim scheduled tick ``key`` for planning, atomically (``domain.ticks.may_claim_tick``);
        False when the firing is coalesced into a claimed one."""
        ...

    async def release_tick(self, source_id: str, key: str) -> None:
        """Give back tick ``key`` whose planning failed, so Dapr's redelivery of it plans."""
        ...

    async def last_tick(self, source_id: str) -> TickClaim | None: ...

    async def set_planned_until(self, source_id: str, value: datetime, origin: datetime) -> None:
        """Set ``planned_until``; the first time also start ``completed_until`` at ``origin``."""
        ...

    async def add_done_window(self, source_id: str, task_id: str, window: TimeWindow) -> None:
        """Remember a completed window (insert-only, keyed by task id: safe to repeat)."""
        ...

    async def done_windows_from(self, source_id: str, start: datetime) -> list[TimeWindow]: ...

    async def advance_completed_until(self, source_id: str, value: datetime) -> bool:
        """Move ``completed_until`` forward to ``value``; never backwards, never past
        ``planned_until`` (atomic, conditional); False when it did not move."""
        ...

    async def advance_cursor(self, source_id: str, cursor: StoredCursor) -> bool:
        """Store ``cursor`` if it is newer than the stored one (``domain.cursor.is_newer``), in one
        conditional update; False when it is not."""
        ...


class RunRepository(Protocol):
    """``runs``: the audit of every trigger."""

    async def insert(self, run: Run) -> None: ...

    async def update(self, run: Run) -> None: ...

    async def get(self, run_id: str) -> Run | None: ...

    async def record_task(
        self, run_id: str, task_id: str, status: str, now: datetime, error: str | None = None
    ) -> Run | None:
        """Record a task's final status (and its error) once and update the run's status and
        error (``domain.runs.run_error``) atomically."""
        ...

    async def list(self, source_id: str | None = None, limit: int = 50) -> list[Run]:
        """The latest runs first."""
        ...

    async def overdue(self, now: datetime, limit: int) -> Sequence[Run]:
        """Runs still planned or enqueued whose ``deadline_at`` has passed, oldest deadline first."""
        ...

    async def close_overdue(self, run: Run, error: str, now: datetime) -> bool:
        """Mark ``run`` failed with ``error``, each task without a status failed too, if it is still
        open (one conditional write); False when it was closed meanwhile."""
        ...


class TaskProgress(Protocol):
    """What the reports of one task add up to so far."""

    source_id: str
    run_id: str | None
    fetch_status: str | None
    documents_expected: int | None
    document_status: dict[str, str]
    window: TimeWindow | None
    errors: list[str]
    cursors: list[CursorValue]
    """the cursors the worker reported for the task's documents (``TaskResult.cursor``)"""


class RetryRepository(Protocol):
    """``failed_windows`` (keyed by task id): the windows being retried, dead or recovered."""

    async def get(self, task_id: str) -> WindowRetry | None: ...

    async def save(self, retry: WindowRetry) -> bool:
        """Insert it (``revision`` 1) or replace the stored ``revision - 1``; False when another
        writer changed it first (read it again and decide again)."""
        ...

    async def due(self, source_id: str, now: datetime, limit: int) -> list[WindowRetry]:
        """``failing`` windows whose ``next_attempt_at`` has come, earliest window first."""
        ...

    async def list(self, source_id: str) -> list[WindowRetry]:
        """Every tracked window of the source, earliest window first."""
        ...


class TaskLedger(Protocol):
    """``task_outcomes``: the reports received per task (idempotent: a repeat changes nothing)."""

    async def record(self, result: TaskResult) -> TaskProgress:
        """Add ``result``; the progress counts only the reports of the result's run (each try
        of a window is a run of its own, so an earlier try's reports do not mix in)."""
        ...

    async def run_reports(self, run_id: str, task_ids: Sequence[str]) -> list[StoredReport]:
        """Every report received so far of ``task_ids`` in run ``run_id`` (the run's progress)."""
        ...


class Planning(Protocol):
    """Plans the work of one trigger or backfill (windows, work items, run audit)."""

    async def plan(self, source: StoredSource, *, manual: bool, tick: str | None = None) -> TriggerResult: ...

    async def backfill(self, source: StoredSource, start: datetime, end: datetime) -> list[TriggerResult]: ...
