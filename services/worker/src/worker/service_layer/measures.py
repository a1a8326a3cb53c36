"""What one document's processing adds to the metrics: its outcome, the record versions it
wrote and the rows it rejected, and how long it took (``headwater.metric_names``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from worker.service_layer.ports import Metrics

__all__ = ["measure"]

CHANGES = ("created", "updated", "deleted")


def measure(
    metrics: Metrics,
    outcome: str,
    source_id: str,
    started: datetime,
    now: datetime,
    counts: Mapping[str, int] | None = None,
) -> None:
    """``outcome`` is ``stored``, ``duplicate`` or ``failed``; ``counts`` those of a stored document."""
    metrics.count(f"documents_{outcome}", 1, source_id=source_id)
    for change in CHANGES:
        if counts and counts.get(f"records_{change}"):
            metrics.count(f"records_{change}", counts[f"records_{change}"], source_id=source_id)
    if counts and counts.get("rows_rejected"):
        metrics.count("rows_rejected", counts["rows_rejected"], source_id=source_id)
    metrics.observe("document_duration", (now - started).total_seconds(), source_id=source_id, outcome=outcome)
