"""Watermark and run-status rules: never advance past work that failed or is missing.

A source has two watermarks (DESIGN.md, "Storage"): ``planned_until`` moves once every
work item of a run is published (see :mod:`planner.domain.windows`); ``completed_until``
moves here, only across windows that are durably done, with no gap, and never backwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum

from headwater.contracts.messages import TaskStatus, TimeWindow

__all__ = ["RunStatus", "advance_completed", "run_status_from_results"]


class RunStatus(StrEnum):
    """Life of a run: planned → enqueued → succeeded | partial | failed; or skipped."""

    PLANNED = "planned"
    ENQUEUED = "enqueued"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    SKIPPED = "skipped"


def advance_completed(
    completed_until: datetime | None,
    succeeded: Iterable[TimeWindow],
    origin: datetime,
    *,
    planned_until: datetime | None,
) -> datetime | None:
    """``completed_until`` after the ``succeeded`` windows (in any order, repeats allowed).

    It moves from ``completed_until`` (or ``origin`` when unset) across succeeded windows as
    long as each one begins at or before the mark reached so far; the first gap stops it.
    Windows wholly behind the mark are ignored, so it never moves backwards. It stays
    ``None`` while nothing contiguous to ``origin`` has succeeded.

    It never passes ``planned_until``: only what planning published can be complete, so a
    window beyond it (a backfill's, or one a forged report claims) waits until planning gets
    there; with nothing planned yet (``None``) it does not move at all.
    """
    if planned_until is None:
        return completed_until
    mark = origin if completed_until is None else completed_until
    for window in sorted(succeeded, key=lambda w: (w.start, w.end)):
        if window.start > mark:
            break  # a gap: the missing window holds the mark back
        mark = max(mark, window.end)
    mark = min(mark, planned_until if completed_until is None else max(planned_until, completed_until))
    if completed_until is None and mark <= origin:
        return None
    return mark


_SUCCESS = frozenset({TaskStatus.SUCCEEDED, TaskStatus.DUPLICATE})


def run_status_from_results(expected_task_ids: Iterable[str], results: Mapping[str, str]) -> RunStatus:
    """A run's status from the final status of each of its tasks.

    ======================================  ===========
    tasks' final statuses                   run status
    ======================================  ===========
    none expected                           skipped
    any expected task without a result      enqueued
    all succeeded or duplicate              succeeded
    all failed                              failed
    any other mix (some work got through)   partial
    ======================================  ===========

    A ``duplicate`` (content already stored) counts as succeeded. Results of tasks that are
    not expected are ignored; an unknown status raises ``ValueError``.
    """
    expected = list(dict.fromkeys(expected_task_ids))
    if not expected:
        return RunStatus.SKIPPED
    if any(task_id not in results for task_id in expected):
        return RunStatus.ENQUEUED
    statuses = {TaskStatus(results[task_id]) for task_id in expected}
    if statuses <= _SUCCESS:
        return RunStatus.SUCCEEDED
    if statuses == {TaskStatus.FAILED}:
        return RunStatus.FAILED
    return RunStatus.PARTIAL
