"""Failed windows: re-planned with exponential backoff, a bounded number of times, then dead.

A window whose task ends ``failed`` or ``partial`` is tracked (``failed_windows``, keyed by
its task id) through these states::

    (first failure) ──► failing ──(due, planned again: attempt + 1)──► retrying
                          ▲                                              │
                          └──────────── failed, attempts left ◄──────────┤
                                                                         ├─ failed, last attempt ──► dead
    any state ──(a run of that window succeeds)──► recovered             │
    recovered ──(fails again in a later run)──► failing (attempt 1) ◄────┘

- ``attempt`` counts tries, the first included; a ``failing`` window is due again at
  ``next_attempt_at = failed_at + backoff * 2^(attempt-1)`` (capped at ``backoff_max``);
  after ``max_attempts`` tries it is ``dead`` and never planned again by itself (a backfill
  of the window still runs it, and its success recovers it).
- Each report belongs to one run (every try is planned in a run of its own), so a late or
  repeated report of an earlier try (another ``run_id``) changes nothing.
- ``completed_until`` is not decided here: a failed or dead window simply is not among the
  completed ones, which holds the watermark back (:mod:`planner.domain.watermarks`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from headwater.contracts.messages import TimeWindow

__all__ = [
    "RetryPolicy",
    "WindowRetry",
    "WindowState",
    "after_failure",
    "after_success",
    "retry_not_sent",
    "retry_started",
]


class WindowState(StrEnum):
    FAILING = "failing"  # waiting for next_attempt_at
    RETRYING = "retrying"  # planned again, its result not in yet
    DEAD = "dead"  # max_attempts used up
    RECOVERED = "recovered"  # a later try (or another run of the window) succeeded


@dataclass(frozen=True)
class RetryPolicy:
    """``ingestion.window.max_attempts`` / ``retry_backoff`` / ``retry_backoff_max`` of a source."""

    max_attempts: int = 5
    backoff: timedelta = timedelta(minutes=1)
    backoff_max: timedelta = timedelta(hours=6)

    def wait_after(self, attempt: int) -> timedelta:
        """The wait after the ``attempt``-th try failed: backoff, doubled per try, capped."""
        wait = self.backoff
        for _ in range(attempt - 1):
            if wait >= self.backoff_max:
                break
            wait *= 2
        return min(wait, self.backoff_max)


@dataclass(frozen=True)
class WindowRetry:
    """One tracked window (``failed_windows``). ``run_id`` is the run of its latest try;
    ``last_failed_at`` / ``last_failed_run`` say when and in which run ``last_error`` happened;
    ``revision`` grows by one on every change (the store writes conditionally on it)."""

    task_id: str
    source_id: str
    window: TimeWindow
    state: WindowState
    attempt: int
    run_id: str | None
    last_error: str | None
    next_attempt_at: datetime | None
    first_failed_at: datetime
    updated_at: datetime
    revision: int = 1
    last_failed_at: datetime | None = None
    last_failed_run: str | None = None

    def is_due(self, now: datetime) -> bool:
        return self.state is WindowState.FAILING and (self.next_attempt_at is None or self.next_attempt_at <= now)


def after_failure(
    current: WindowRetry | None,
    *,
    task_id: str,
    source_id: str,
    window: TimeWindow,
    run_id: str | None,
    error: str | None,
    now: datetime,
    policy: RetryPolicy,
) -> WindowRetry | None:
    """The window after a run of it failed; None when that changes nothing (a repeated or
    stale report, or a failure of another run while a retry is pending or the window is dead)."""
    if current is None or (current.state is WindowState.RECOVERED and current.run_id != run_id):
        revision = current.revision if current else 0  # a recovered window starts over in its document
        first = WindowRetry(task_id, source_id, window, WindowState.RETRYING, 1, run_id, None, None, now, now, revision)
        return _failed(first, error, now, policy)
    if current.state is WindowState.RETRYING and current.run_id == run_id:
        return _failed(current, error, now, policy)
    return None


def _failed(current: WindowRetry, error: str | None, now: datetime, policy: RetryPolicy) -> WindowRetry:
    reason = error or "the task failed without an error message"
    if current.attempt >= policy.max_attempts:
        state, next_at = WindowState.DEAD, None
        reason = f"gave up after {current.attempt} attempt(s): {reason}"
    else:
        state, next_at = WindowState.FAILING, now + policy.wait_after(current.attempt)
    return _next(
        current,
        now,
        state=state,
        last_error=reason,
        next_attempt_at=next_at,
        last_failed_at=now,
        last_failed_run=current.run_id,
    )


def after_success(current: WindowRetry | None, run_id: str | None, now: datetime) -> WindowRetry | None:
    """The window after a run of it succeeded: recovered (None when it is not tracked or already was)."""
    if current is None or current.state is WindowState.RECOVERED:
        return None
    return _next(current, now, state=WindowState.RECOVERED, run_id=run_id, next_attempt_at=None)


def retry_started(current: WindowRetry, run_id: str, now: datetime, policy: RetryPolicy) -> WindowRetry | None:
    """The window planned again in ``run_id`` (attempt + 1); None when it is not due any more.
    A window whose tries are used up (``max_attempts`` lowered since) is marked dead instead.
    Claiming it again for the same run returns it unchanged (a repeated write is harmless)."""
    if current.state is WindowState.RETRYING and current.run_id == run_id:
        return current
    if not current.is_due(now):
        return None
    if current.attempt >= policy.max_attempts:
        reason = f"gave up after {current.attempt} attempt(s) (max_attempts {policy.max_attempts}): "
        return _next(current, now, state=WindowState.DEAD, next_attempt_at=None, last_error=reason + _last(current))
    return _next(current, now, state=WindowState.RETRYING, attempt=current.attempt + 1, run_id=run_id)


def retry_not_sent(current: WindowRetry, run_id: str, now: datetime) -> WindowRetry | None:
    """Undo ``retry_started`` when the run could not publish the work item: due again at once."""
    if current.state is not WindowState.RETRYING or current.run_id != run_id:
        return None
    return _next(current, now, state=WindowState.FAILING, attempt=current.attempt - 1, next_attempt_at=now)


def _last(current: WindowRetry) -> str:
    return current.last_error or "no error reported"


def _next(current: WindowRetry, now: datetime, **changes: object) -> WindowRetry:
    return replace(current, updated_at=now, revision=current.revision + 1, **changes)  # type: ignore[arg-type]
