"""``OtelPlannerMetrics``: the planner's counters as OpenTelemetry counters (``headwater.planner.*``)."""

from __future__ import annotations

from typing import Any

from headwater.telemetry import counter

__all__ = ["OtelPlannerMetrics"]

DESCRIPTIONS = {
    "work_items_enqueued": "work items published",
    "runs_skipped": "runs skipped (up to date / leased)",
    "runs_failed": "runs that failed to plan",
    "runs_timed_out": "runs closed as failed because tasks never reported before the deadline",
    "windows_failing": "windows that failed and wait for their next attempt",
    "windows_dead": "windows that used up their attempts",
    "windows_recovered": "failed windows whose later run succeeded",
}


class OtelPlannerMetrics:
    """One lazily bound counter per name; an unknown name is a programming error (KeyError)."""

    def __init__(self) -> None:
        self._counters: dict[str, Any] = {
            name: counter(f"headwater.planner.{name}", description) for name, description in DESCRIPTIONS.items()
        }

    def count(self, name: str, amount: int, **attributes: str) -> None:
        self._counters[name].add(amount, attributes)
