"""Watermark and run-status rules: never advance past work that failed or is missing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum

from headwater.contracts.messages import TimeWindow

__all__ = ["RunStatus", "advance_completed", "run_status_from_results"]


class RunStatus(StrEnum):
    PLANNED = "planned"
    ENQUEUED = "enqueued"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    SKIPPED = "skipped"


def advance_completed(
    completed_until: datetime | None, succeeded: Iterable[TimeWindow], origin: datetime
) -> datetime | None:
    """Move across the contiguous succeeded windows starting at ``completed_until`` (or
    ``origin``); a gap stops it; it never moves backwards."""
    mark = completed_until or origin
    for window in sorted(succeeded, key=lambda w: w.start):
        if window.end <= mark:
            continue
        if window.start > mark:
            break
        mark = window.end
    if completed_until is None and mark == origin:
        return None
    return mark


def run_status_from_results(expected_task_ids: Iterable[str], results: Mapping[str, str]) -> RunStatus:
    """A run is done when every task reported; duplicates count as succeeded."""
    expected = list(expected_task_ids)
    statuses = [results.get(t) for t in expected]
    if any(s is None for s in statuses):
        return RunStatus.ENQUEUED
    ok = [s in ("succeeded", "duplicate") for s in statuses]
    if all(ok):
        return RunStatus.SUCCEEDED
    if any(ok) or "partial" in statuses:
        return RunStatus.PARTIAL
    return RunStatus.FAILED
