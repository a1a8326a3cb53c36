"""``OtelWorkerMetrics``: the worker's counts as OpenTelemetry instruments
(``headwater.documents``, ``headwater.records``, ``headwater.rows.rejected``,
``headwater.document.duration``); names and units in ``headwater.metric_names`` (the
dead-letter gauge is ``adapters/mongo_dead_letter_gauge``)."""

from __future__ import annotations

from typing import Any

from headwater.metric_names import DOCUMENT_DURATION, DOCUMENTS, RECORDS, ROWS_REJECTED, SECONDS_BUCKETS, MetricSpec
from headwater.telemetry import counter, histogram, snapshot

__all__ = ["OtelWorkerMetrics"]

# the service layer's count names → (instrument, attribute, value)
COUNTS: dict[str, tuple[MetricSpec, str, str]] = {
    "documents_stored": (DOCUMENTS, "outcome", "stored"),
    "documents_duplicate": (DOCUMENTS, "outcome", "duplicate"),
    "documents_failed": (DOCUMENTS, "outcome", "failed"),
    "records_created": (RECORDS, "change", "created"),
    "records_updated": (RECORDS, "change", "updated"),
    "records_deleted": (RECORDS, "change", "deleted"),
    "rows_rejected": (ROWS_REJECTED, "", ""),
}


class OtelWorkerMetrics:
    """An unknown name is a programming error (KeyError)."""

    def __init__(self) -> None:
        self._counters: dict[str, Any] = {
            spec.name: counter(spec.name, spec.description, spec.unit) for spec in (DOCUMENTS, RECORDS, ROWS_REJECTED)
        }
        self._duration = histogram(DOCUMENT_DURATION.name, DOCUMENT_DURATION.description, "s", SECONDS_BUCKETS)

    def count(self, name: str, amount: int, **attributes: str) -> None:
        spec, key, value = COUNTS[name]
        self._counters[spec.name].add(amount, {key: value, **attributes} if key else attributes)

    def observe(self, name: str, seconds: float, **attributes: str) -> None:
        if name != "document_duration":
            raise KeyError(name)
        self._duration.record(seconds, attributes)

    def snapshot(self) -> dict[str, int]:
        return snapshot()
