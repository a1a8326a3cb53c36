"""OpenTelemetry tracing: one trace per document, from the job callback to the published event.

``configure_tracing(service)`` installs an SDK TracerProvider (``service.name`` = the Dapr app
id) and, when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, a batching OTLP/HTTP span exporter, the
aiohttp-client instrumentation (a source's API is fetched with aiohttp) and the PyMongo one: a
span per request or database command is only worth its cost when someone collects it (the
client instrumentation took a fifth of collection-model's CPU in a 500-item fan-out).
``instrument_app`` adds the FastAPI instrumentation, which continues the W3C ``traceparent``
daprd sends with a job callback, a pub/sub delivery or an invocation. Outgoing sidecar calls
(``headwater.edge.sidecar``) carry the current ``traceparent``, which Dapr puts into the
CloudEvent it publishes and hands to the subscriber: the trace goes on across every topic.
Without an endpoint nothing is exported, but trace ids still flow (and appear in the logs).
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import unquote, unquote_plus

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from headwater.edge.logging import MASK, secrets

__all__ = ["EXCLUDED_URLS", "configure_tracing", "exporting", "instrument_app", "span_url", "tracer"]

# probes and scrapes are not traces anyone follows
EXCLUDED_URLS = "healthz,metrics,dapr/subscribe,dapr/config"
_configured = False


def exporting() -> bool:
    """Whether spans are exported (an OTLP endpoint is configured)."""
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def configure_tracing(service: str) -> None:
    """Install the process's TracerProvider and client instrumentations once."""
    global _configured
    if _configured:
        return
    _configured = True
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if exporting():
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    if exporting():
        from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
        from opentelemetry.instrumentation.pymongo import PymongoInstrumentor

        AioHttpClientInstrumentor().instrument(url_filter=span_url)  # an API key may be in the query
        PymongoInstrumentor().instrument()


def span_url(url: Any) -> str:
    """A client span's URL (a ``yarl.URL``) without a registered secret: a source's API key may
    travel in the query string, and OpenTelemetry redacts only a few known parameters. A query
    value holding a secret once decoded (``+`` read as a space or not) becomes ``***``; then
    the whole URL is masked as the logs are."""
    base, mark, query = str(url).partition("?")
    if mark:
        query = "&".join(_masked_parameter(part) for part in query.split("&"))
    return secrets.mask(base + mark + query)


def _masked_parameter(part: str) -> str:
    name, eq, value = part.partition("=")
    hidden = any(secrets.mask(form) != form for form in (unquote(value), unquote_plus(value)))
    return f"{name}{eq}{MASK if hidden else value}"


def instrument_app(app: Any) -> None:
    """Server spans for every request of ``app`` but the probes (``EXCLUDED_URLS``)."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # no spans for each ASGI receive/send message: noise next to the request's own span
    FastAPIInstrumentor.instrument_app(app, excluded_urls=EXCLUDED_URLS, exclude_spans=["receive", "send"])


def tracer() -> trace.Tracer:
    return trace.get_tracer("headwater")
