"""The app shell's telemetry: an open ``/metrics`` that exports what ``metric_names`` lists under
the names it promises, ``traceparent`` on every sidecar call, trace ids on log lines, and the
fetch's bounded outcome label."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from opentelemetry import trace
from prometheus_client.parser import text_string_to_metric_families

from collection_model.domain.errors import BlockedAddressError, TransientFetchError
from collection_model.service_layer.fetch_metrics import outcome_of
from collection_model.service_layer.ports import HttpResponse
from headwater.edge.logging import add_trace_ids
from headwater.edge.service import create_service_app
from headwater.edge.sidecar import DaprSidecar
from headwater.metric_names import DOCUMENT_DURATION, DOCUMENTS, METRICS, SECONDS_BUCKETS, prometheus_names
from headwater.telemetry import counter, histogram


@asynccontextmanager
async def _nothing(_app: FastAPI) -> AsyncIterator[None]:
    yield


async def _get(app: FastAPI, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client:
        return await client.get(path)


async def test_metrics_is_open_and_uses_the_listed_names() -> None:
    app = create_service_app("unit-telemetry", "0", _nothing, app_api_token="app-secret")
    counter(DOCUMENTS.name, DOCUMENTS.description, DOCUMENTS.unit).add(2, {"source_id": "s1", "outcome": "stored"})
    histogram(DOCUMENT_DURATION.name, "", "s", SECONDS_BUCKETS).record(0.2, {"source_id": "s1", "outcome": "stored"})

    response = await _get(app, "/metrics")
    assert (await _get(app, "/api/anything")).status_code == 401  # everything else still needs the token

    assert response.status_code == 200
    samples = {
        (s.name, s.labels.get("outcome")): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
        if s.labels.get("source_id") == "s1"
    }
    assert samples[(DOCUMENTS.prometheus, "stored")] == 2
    assert samples[(f"{DOCUMENT_DURATION.prometheus}_count", "stored")] == 1


def test_the_list_names_each_metric_once_with_bounded_labels() -> None:
    names = prometheus_names()
    assert len(names) == len(set(names)) == len(METRICS)
    assert "headwater_documents_total" in names and "headwater_watermark_lag_seconds" in names
    for spec in METRICS:
        assert spec.attributes[0] == "source_id" and not {"url", "task_id", "document_id"} & set(spec.attributes)


async def test_every_sidecar_call_carries_the_current_traceparent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    sidecar = DaprSidecar("http://dapr", "t", transport=httpx.MockTransport(handler))
    with trace.get_tracer("test").start_as_current_span("document") as span:
        await sidecar.publish("pubsub", "raw-documents", {"a": 1})
        await sidecar.publish_bulk("pubsub", "raw-documents", [("1", {"a": 1}, {})])
    await sidecar.aclose()

    trace_id = trace.format_trace_id(span.get_span_context().trace_id)
    assert [r.headers["traceparent"].split("-")[1] for r in seen] == [trace_id, trace_id]
    assert seen[0].headers["dapr-api-token"] == "t" and json.loads(seen[0].content) == {"a": 1}


def test_log_lines_inside_a_span_carry_its_ids() -> None:
    assert "trace_id" not in add_trace_ids(None, "info", {"event": "outside"})
    with trace.get_tracer("test").start_as_current_span("s") as span:
        event: dict[str, Any] = add_trace_ids(None, "info", {"event": "inside"})  # type: ignore[assignment]
    context = span.get_span_context()
    assert event["trace_id"] == trace.format_trace_id(context.trace_id)
    assert event["span_id"] == trace.format_span_id(context.span_id)


def test_fetch_outcomes_are_a_small_fixed_set() -> None:
    response = HttpResponse(503, {}, b"", "http://x/")
    assert outcome_of(response, None) == "5xx"
    assert outcome_of(HttpResponse(200, {}, b"", "http://x/"), None) == "2xx"
    assert outcome_of(None, TransientFetchError("timeout")) == "transient"
    assert outcome_of(None, BlockedAddressError("10.0.0.1")) == "refused"
    assert outcome_of(None, ValueError("?")) == "error"
