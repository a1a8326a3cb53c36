"""OpenTelemetry metrics: counters named once here, exported by whatever provider is set.

``configure_metrics`` installs an SDK MeterProvider (in-memory reader by default, so the
counters can also be read back by ``/metrics/summary``-style endpoints and tests).
"""

from __future__ import annotations

from typing import Any

from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

__all__ = ["configure_metrics", "counter", "snapshot"]

_reader: InMemoryMetricReader | None = None


def configure_metrics(service: str) -> None:
    global _reader
    if _reader is None:
        _reader = InMemoryMetricReader()
        metrics.set_meter_provider(MeterProvider(metric_readers=[_reader]))


def counter(name: str, description: str) -> Any:
    """A lazily bound counter (the provider may be configured after import)."""
    return _LazyCounter(name, description)


class _LazyCounter:
    def __init__(self, name: str, description: str) -> None:
        self._name = name
        self._description = description
        self._counter: Any = None

    def add(self, amount: int, attributes: dict[str, str] | None = None) -> None:
        if self._counter is None:
            self._counter = metrics.get_meter("headwater").create_counter(self._name, description=self._description)
        self._counter.add(amount, attributes or {})


def snapshot() -> dict[str, int]:
    """Totals per counter name (summed over attributes) from the in-memory reader."""
    if _reader is None:
        return {}
    data = _reader.get_metrics_data()
    totals: dict[str, int] = {}
    for rm in data.resource_metrics if data else []:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                if metric.name.startswith("headwater."):  # counters only (not the HTTP histograms)
                    totals[metric.name] = sum(int(getattr(p, "value", 0)) for p in metric.data.data_points)
    return totals
