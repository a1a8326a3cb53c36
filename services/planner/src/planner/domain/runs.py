"""Runs (the audit of every trigger) and each source's watermarks, as the planner records them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from headwater.contracts.messages import TaskStatus, TimeWindow
from planner.domain.cursor import StoredCursor
from planner.domain.watermarks import RunStatus

__all__ = ["NO_REPORT", "OPEN", "Run", "SourceState", "missing_tasks", "run_deadline", "run_error", "timeout_error"]


@dataclass
class SourceState:
    """``source_state`` of one source: ``planned_until`` and ``completed_until`` (None until set),
    and the incremental ``cursor`` (None until one is stored)."""

    source_id: str
    planned_until: datetime | None = None
    completed_until: datetime | None = None
    cursor: StoredCursor | None = None


@dataclass
class Run:
    """One trigger of one source (``runs``): the windows and work items it planned, and how they went."""

    run_id: str
    source_id: str
    trigger: str
    triggered_at: datetime
    status: RunStatus
    config_version: int
    windows: list[TimeWindow] = field(default_factory=list)
    task_ids: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    updated_at: datetime | None = None
    task_status: dict[str, str] = field(default_factory=dict)
    task_errors: dict[str, str] = field(default_factory=dict)
    """the error each task that did not succeed reported"""
    attempts: dict[str, int] = field(default_factory=dict)
    """task id -> attempt, for the windows this run plans again (attempt 2 and later)"""
    deadline_at: datetime | None = None
    """when a run still planned or enqueued is closed as failed (``run_deadline``)"""


_UNSUCCESSFUL = (RunStatus.FAILED, RunStatus.PARTIAL)


def run_error(run: Run) -> str | None:
    """The error a run keeps: its own when it has one (a publish failure); else, once the run is
    failed or partial, the first unsuccessful task's error and how many did not succeed."""
    if run.error or run.status not in _UNSUCCESSFUL:
        return run.error
    failed = [t for t in run.task_ids if run.task_status.get(t) in (TaskStatus.FAILED, TaskStatus.PARTIAL)]
    if not failed:
        return None
    first = f"{failed[0]}: {run.task_errors.get(failed[0]) or 'no error reported'}"
    return first if len(failed) == 1 else f"{len(failed)} tasks did not succeed; {first}"


OPEN = (RunStatus.PLANNED, RunStatus.ENQUEUED)
"""A run in these states waits for its publishing or its tasks' reports."""

_SHOWN = 5
NO_REPORT = "no report before the run's deadline"


def run_deadline(triggered_at: datetime, base: timedelta, fetch_timeout: float | None) -> datetime:
    """When a run triggered at ``triggered_at`` must be final: ``base`` (the planner's
    ``HEADWATER_RUN_TIMEOUT``) plus four of the source's request timeouts (a fetch and its retries)."""
    return triggered_at + base + timedelta(seconds=4 * (fetch_timeout or 0))


def missing_tasks(run: Run) -> list[str]:
    """The run's tasks without a final status, in plan order."""
    return [t for t in dict.fromkeys(run.task_ids) if t not in run.task_status]


def timeout_error(run: Run) -> str:
    """Why an overdue run is closed as failed, naming the tasks that never reported."""
    missing = missing_tasks(run)
    seconds = int(((run.deadline_at or run.triggered_at) - run.triggered_at).total_seconds())
    if run.status is RunStatus.PLANNED:
        what = f"planning did not finish ({len(run.task_ids)} work item(s) planned)"
    else:
        what = f"{len(missing)} of {len(run.task_ids)} task(s) never reported"
    names = ", ".join(missing[:_SHOWN]) + (f" and {len(missing) - _SHOWN} more" if len(missing) > _SHOWN else "")
    return f"timed out after {seconds} s: {what}" + (f": {names}" if names else "")
