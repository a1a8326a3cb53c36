"""Every metric the services export — the one list alert rules and dashboards are written against.

Each ``MetricSpec`` is an OpenTelemetry instrument (name, unit and attributes in the style of
the semantic conventions: a dotted name, the outcome as an attribute, UCUM units, ``{thing}``
for counts) and the name Prometheus sees on ``GET /metrics`` (the OpenTelemetry Prometheus
exporter turns dots into underscores, adds ``_seconds`` for ``s``, drops ``{…}`` units and
adds ``_total`` to counters; a histogram is ``<name>_bucket`` / ``_sum`` / ``_count``).

Labels are bounded: ``source_id`` (the operator's source ids) and the small enums listed in
``attributes``; never a URL, a task id or a document id. Besides these, ``/metrics`` carries
the Python process collectors (``process_resident_memory_bytes``, …), ``target_info``
(``service_name``) and the FastAPI instrumentation's ``http_server_duration_milliseconds``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DEAD_LETTERS",
    "DOCUMENTS",
    "DOCUMENT_DURATION",
    "EVENTS_EMITTED",
    "FETCH_DURATION",
    "FETCH_ITEMS",
    "FETCH_REQUESTS",
    "FETCH_RETRIES",
    "METRICS",
    "RECORDS",
    "ROWS_REJECTED",
    "RUNS",
    "RUN_DURATION",
    "SECONDS_BUCKETS",
    "WATERMARK_LAG",
    "WINDOWS",
    "MetricSpec",
    "prometheus_names",
]

Kind = Literal["counter", "histogram", "gauge"]

# explicit histogram buckets in seconds (the SDK's default buckets are meant for milliseconds)
SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)


@dataclass(frozen=True)
class MetricSpec:
    """One exported instrument: who records it, its OpenTelemetry name, unit and attributes."""

    name: str
    kind: Kind
    unit: str
    description: str
    service: str
    attributes: tuple[str, ...] = ("source_id",)

    @property
    def prometheus(self) -> str:
        """The metric family name as Prometheus scrapes it."""
        base = self.name.replace(".", "_")
        if self.unit == "s":
            base += "_seconds"
        return f"{base}_total" if self.kind == "counter" else base


DOCUMENTS = MetricSpec(
    "headwater.documents", "counter", "{document}", "documents judged, by outcome: stored, duplicate, failed",
    "worker", ("source_id", "outcome"),
)  # fmt: skip
RECORDS = MetricSpec(
    "headwater.records", "counter", "{record}", "record versions written, by change: created, updated, deleted",
    "worker", ("source_id", "change"),
)  # fmt: skip
ROWS_REJECTED = MetricSpec("headwater.rows.rejected", "counter", "{row}", "rows rejected by validation", "worker")
DOCUMENT_DURATION = MetricSpec(
    "headwater.document.duration", "histogram", "s", "time to process one document, by outcome",
    "worker", ("source_id", "outcome"),
)  # fmt: skip
EVENTS_EMITTED = MetricSpec(
    "headwater.worker.events_emitted", "counter", "{event}", "domain events published on ingestion-events, by type",
    "worker", ("source_id", "type"),
)  # fmt: skip
DEAD_LETTERS = MetricSpec(
    "headwater.dead_letters", "gauge", "{document}", "dead letters of raw-documents kept, not yet replayed", "worker"
)
FETCH_REQUESTS = MetricSpec(
    "headwater.fetch.requests", "counter", "{request}",
    "HTTP exchanges with a source's API, by outcome: 2xx … 5xx, transient (connection, DNS, timeout), "
    "refused (SSRF guard), too_large, redirect, error",
    "collection-model", ("source_id", "outcome"),
)  # fmt: skip
FETCH_RETRIES = MetricSpec("headwater.fetch.retries", "counter", "{retry}", "requests sent again", "collection-model")
FETCH_DURATION = MetricSpec(
    "headwater.fetch.duration", "histogram", "s", "duration of one HTTP exchange with a source's API, by outcome",
    "collection-model", ("source_id", "outcome"),
)  # fmt: skip
FETCH_ITEMS = MetricSpec(
    "headwater.fetch.items", "counter", "{item}", "items (or single requests) fetched, by outcome: succeeded, failed",
    "collection-model", ("source_id", "outcome"),
)  # fmt: skip
WINDOWS = MetricSpec(
    "headwater.windows", "counter", "{window}",
    "work items (windows, ticks) by outcome: planned, failed (will be retried), dead (attempts used up), recovered",
    "planner", ("source_id", "outcome"),
)  # fmt: skip
RUNS = MetricSpec(
    "headwater.runs", "counter", "{run}",
    "runs by outcome: skipped (nothing due, or leased: reason), failed (not planned), timed_out, "
    "succeeded, partial (closed with these task results)",
    "planner", ("source_id", "outcome", "reason"),
)  # fmt: skip
RUN_DURATION = MetricSpec(
    "headwater.run.duration", "histogram", "s", "from a run's trigger to its last task result, by outcome",
    "planner", ("source_id", "outcome"),
)  # fmt: skip
WATERMARK_LAG = MetricSpec(
    "headwater.watermark.lag", "gauge", "s",
    "seconds between now and the source's completed_until watermark (windowed sources)", "planner",
)  # fmt: skip

METRICS: tuple[MetricSpec, ...] = (
    DOCUMENTS,
    RECORDS,
    ROWS_REJECTED,
    DOCUMENT_DURATION,
    EVENTS_EMITTED,
    DEAD_LETTERS,
    FETCH_REQUESTS,
    FETCH_RETRIES,
    FETCH_DURATION,
    FETCH_ITEMS,
    WINDOWS,
    RUNS,
    RUN_DURATION,
    WATERMARK_LAG,
)


def prometheus_names(service: str | None = None) -> list[str]:
    """The metric family names Prometheus sees (of one service, or of all)."""
    return [m.prometheus for m in METRICS if service is None or m.service == service]
