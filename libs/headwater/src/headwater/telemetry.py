"""OpenTelemetry metrics: one MeterProvider per process and lazily bound instruments.

``configure_metrics(service)`` installs an SDK MeterProvider with three readers: an in-memory
one (``snapshot``, the worker's summary counters), the Prometheus exporter (its collector is
what ``GET /metrics`` renders, ``headwater.edge.service``) and, when
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, a periodic OTLP/HTTP push. Instruments may be created
at import time: each binds to the provider on first use. The exported names are listed in
``headwater.metric_names``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricReader
from opentelemetry.sdk.resources import Resource

__all__ = ["Gauge", "Observation", "configure_metrics", "counter", "histogram", "observable_gauge", "snapshot"]

_reader: InMemoryMetricReader | None = None
METER = "headwater"


def configure_metrics(service: str) -> None:
    """Install the process's MeterProvider once (later calls change nothing)."""
    global _reader
    if _reader is not None:
        return
    _reader = InMemoryMetricReader()
    readers: list[MetricReader] = [_reader, _prometheus_reader()]
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
    resource = Resource.create({"service.name": service})
    metrics.set_meter_provider(MeterProvider(metric_readers=readers, resource=resource))


def _prometheus_reader() -> MetricReader:
    from opentelemetry.exporter.prometheus import PrometheusMetricReader

    return PrometheusMetricReader()


def counter(name: str, description: str, unit: str = "") -> _Lazy:
    """A lazily bound counter: ``.add(amount, attributes)``."""
    return _Lazy(lambda m: m.create_counter(name, unit=unit, description=description))


def histogram(name: str, description: str, unit: str = "s", buckets: Sequence[float] | None = None) -> _Lazy:
    """A lazily bound histogram: ``.record(value, attributes)``; ``buckets`` are explicit boundaries."""
    return _Lazy(
        lambda m: m.create_histogram(
            name, unit=unit, description=description, explicit_bucket_boundaries_advisory=buckets
        )
    )


class Gauge(Protocol):
    """A gauge whose values live in the store: ``refresh`` reads them again (periodically, in a
    service's lifespan), because an observation (a scrape) may only read memory."""

    async def refresh(self) -> None: ...


def observable_gauge(name: str, description: str, unit: str, observe: Callable[[], Iterable[Observation]]) -> Any:
    """An observable gauge whose values ``observe`` returns at each collection (a scrape, a push).
    It runs on the collecting thread: it must only read what is already in memory."""

    def callback(_options: CallbackOptions) -> Iterable[Observation]:
        return list(observe())

    return metrics.get_meter(METER).create_observable_gauge(
        name, callbacks=[callback], unit=unit, description=description
    )


class _Lazy:
    """An instrument created on first use, so the provider may be configured after import."""

    def __init__(self, create: Callable[[metrics.Meter], Any]) -> None:
        self._create = create
        self._instrument: Any = None

    def _bound(self) -> Any:
        if self._instrument is None:
            self._instrument = self._create(metrics.get_meter(METER))
        return self._instrument

    def add(self, amount: float, attributes: dict[str, str] | None = None) -> None:
        self._bound().add(amount, attributes or {})

    def record(self, value: float, attributes: dict[str, str] | None = None) -> None:
        self._bound().record(value, attributes or {})


def snapshot() -> dict[str, int]:
    """Totals per counter name (summed over attributes) from the in-memory reader."""
    if _reader is None:
        return {}
    data = _reader.get_metrics_data()
    totals: dict[str, int] = {}
    for rm in data.resource_metrics if data else []:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                points = metric.data.data_points
                if metric.name.startswith("headwater.") and all(hasattr(p, "value") for p in points):
                    totals[metric.name] = sum(int(getattr(p, "value", 0)) for p in points)
    return totals
