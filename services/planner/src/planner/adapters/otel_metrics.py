"""``OtelPlannerMetrics``: the planner's counts as OpenTelemetry instruments
(``headwater.windows``, ``headwater.runs``, ``headwater.run.duration``); names and units in
``headwater.metric_names`` (the lag gauge is ``adapters/mongo_watermark_lag``)."""

from __future__ import annotations

from typing import Any

from headwater.metric_names import RUN_DURATION, RUNS, SECONDS_BUCKETS, WINDOWS, MetricSpec
from headwater.telemetry import counter, histogram

__all__ = ["OtelPlannerMetrics"]

# the service layer's count names → (instrument, its outcome attribute)
COUNTS: dict[str, tuple[MetricSpec, str]] = {
    "work_items_enqueued": (WINDOWS, "planned"),
    "windows_failing": (WINDOWS, "failed"),
    "windows_dead": (WINDOWS, "dead"),
    "windows_recovered": (WINDOWS, "recovered"),
    "runs_skipped": (RUNS, "skipped"),
    "runs_failed": (RUNS, "failed"),
    "runs_timed_out": (RUNS, "timed_out"),
    "runs_closed": (RUNS, ""),  # outcome given by the caller: succeeded, partial, failed
}


class OtelPlannerMetrics:
    """An unknown count name is a programming error (KeyError)."""

    def __init__(self) -> None:
        self._counters: dict[str, Any] = {
            spec.name: counter(spec.name, spec.description, spec.unit) for spec in (WINDOWS, RUNS)
        }
        self._run_duration = histogram(RUN_DURATION.name, RUN_DURATION.description, "s", SECONDS_BUCKETS)

    def count(self, name: str, amount: int, **attributes: str) -> None:
        spec, outcome = COUNTS[name]
        self._counters[spec.name].add(amount, {"outcome": outcome, **attributes} if outcome else attributes)

    def observe(self, name: str, seconds: float, **attributes: str) -> None:
        if name != "run_duration":
            raise KeyError(name)
        self._run_duration.record(seconds, attributes)
