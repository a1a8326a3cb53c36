"""Metrics and traces on the real runtime: after one ingest every service's ``/metrics``
agrees with ``headwater summary`` for the source, and one trace id spans the planner,
collection-model and the worker, from the trigger to the published ``ingestion-events``.
The services export to the session's in-test OTLP receiver (``conftest.otlp``)."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from integration_support import FakeApi, cli, until  # type: ignore[import-not-found]
from otlp_receiver import OtlpReceiver, ReceivedSpan  # type: ignore[import-not-found]
from prometheus_client.parser import text_string_to_metric_families
from pymongo import AsyncMongoClient

from headwater.metric_names import METRICS, prometheus_names
from headwater_ops.runtime.stack import Stack, StackInfo

pytestmark = pytest.mark.integration
SERVICES = ("planner", "collection-model", "worker")


def source(sid: str, base: str) -> str:
    return f"""\
source_id: {sid}
ingestion:
  mode: scheduled_pull
  schedule: "0 3 * * *"
  request:
    base_url: {base}/stock
    allow_private_hosts: ["127.0.0.1"]
  retry: {{max_attempts: 3, initial_seconds: 0.2, max_seconds: 1}}
parse: {{format: json, records_path: items}}
validate:
  fields:
    qty: {{type: integer, required: true, min: 0}}
store: {{key: [sku], history: scd2}}
"""


def samples(text: str, sid: str) -> dict[tuple[str, str], float]:
    """``(sample name, outcome/change label or "")`` → value, for the series of ``sid``."""
    out: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.labels.get("source_id") == sid:
                key = (s.name, s.labels.get("outcome") or s.labels.get("change") or "")
                out[key] = out.get(key, 0) + s.value
    return out


async def scrape(http: httpx.AsyncClient, runtime: StackInfo, app: str) -> str:
    """``/metrics`` through the app's sidecar; the same as the open app port answers."""
    via_sidecar = await http.get(f"{runtime.apps[app].invoke_url}/metrics")
    assert via_sidecar.status_code == 200, via_sidecar.text
    direct = httpx.get(f"{runtime.apps[app].app_url}/metrics", timeout=10)  # no token: open like /healthz
    assert direct.status_code == 200 and "target_info" in direct.text
    return via_sidecar.text


def show(spans: list[ReceivedSpan]) -> str:
    t0 = spans[0].start_ns
    return "\n".join(
        f"{(s.start_ns - t0) / 1e6:9.1f} ms  {(s.end_ns - s.start_ns) / 1e6:8.1f} ms  {s.service:<17} {s.name}"
        for s in spans
    )


async def test_one_trace_per_document_and_metrics_match_the_summary(
    stack: Stack,
    runtime: StackInfo,
    tmp_path: Path,
    http: httpx.AsyncClient,
    mongo: AsyncMongoClient,
    otlp: OtlpReceiver,
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"obs-{uuid.uuid4().hex[:6]}"
    trace_id = os.urandom(16).hex()
    with FakeApi() as api:
        api.routes["/stock"] = lambda q, h: (200, {"items": [{"sku": "A", "qty": 3}, {"sku": "B", "qty": -1}]})
        api.failures_left["/stock"] = [500]  # one retry
        (tmp_path / "s.yaml").write_text(source(sid, api.url))
        assert cli(stack, "sources", "apply", "-f", str(tmp_path / "s.yaml")).returncode == 0
        triggered = await http.post(
            f"{runtime.apps['planner'].invoke_url}/api/v1/sources/{sid}/trigger",
            headers={"authorization": f"Bearer {stack.api_token()}", "traceparent": f"00-{trace_id}-{'1' * 16}-01"},
        )
        assert triggered.status_code == 200, triggered.text

        async def run_closed() -> Any:
            run = await db["runs"].find_one({"source_id": sid, "status": {"$in": ["succeeded", "partial", "failed"]}})
            return run

        assert await until(run_closed, timeout=60), "the run never closed"
        sent = api.requests[0]["headers"].get("traceparent", "")
        assert sent.split("-")[1:2] == [trace_id], sent  # the source's API sees the trace too

    wanted = {
        ("planner", "publish work-items"),
        ("collection-model", "publish raw-documents"),
        ("worker", "POST /events/pubsub/raw-documents"),
        ("worker", "publish ingestion-events"),
        ("event-subscriber", "POST /events/pubsub/ingestion-events"),  # the event carries the trace
        ("planner", "POST /events/pubsub/task-results"),
    }

    async def whole_trace() -> list[ReceivedSpan] | None:
        spans = otlp.trace(trace_id)
        return spans if wanted <= {(s.service, s.name) for s in spans} else None

    spans = await until(whole_trace, timeout=30) or otlp.trace(trace_id)
    print(f"\ntrace {trace_id}: {len(spans)} spans\n{show(spans)}")
    services = {s.service for s in spans}
    assert set(SERVICES) <= services, services
    assert wanted <= {(s.service, s.name) for s in spans}
    assert any(s.service == "collection-model" and s.name == "GET" for s in spans), "no aiohttp client span"
    assert any(s.service == "worker" and s.attributes.get("db.system") == "mongodb" for s in spans), "no PyMongo span"

    await _metrics_match_summary(stack, runtime, http, sid)


async def _metrics_match_summary(stack: Stack, runtime: StackInfo, http: httpx.AsyncClient, sid: str) -> None:
    summary = json.loads(cli(stack, "summary", "--source", sid, "-o", "json").stdout)
    figures = summary["sources"][sid] if "sources" in summary else summary[sid]
    scraped = {app: await scrape(http, runtime, app) for app in SERVICES}
    worker = samples(scraped["worker"], sid)
    print(f"summary {figures}\nworker /metrics {worker}")
    assert worker.get(("headwater_documents_total", "stored"), 0) == figures["stored"] == 1
    assert worker.get(("headwater_documents_total", "duplicate"), 0) == figures["duplicates"]
    assert worker.get(("headwater_documents_total", "failed"), 0) == figures["failed"]
    assert worker[("headwater_records_total", "created")] == figures["records"] == 1
    assert worker[("headwater_rows_rejected_total", "")] == figures["rows_rejected"] == 1
    assert worker[("headwater_document_duration_seconds_count", "stored")] == 1
    fetch = samples(scraped["collection-model"], sid)
    assert fetch[("headwater_fetch_requests_total", "5xx")] == 1
    assert fetch[("headwater_fetch_requests_total", "2xx")] == 1
    assert fetch[("headwater_fetch_retries_total", "")] == 1
    assert fetch[("headwater_fetch_duration_seconds_count", "2xx")] == 1
    assert fetch[("headwater_fetch_items_total", "succeeded")] == 1
    planner = samples(scraped["planner"], sid)
    assert planner[("headwater_windows_total", "planned")] == 1
    assert planner[("headwater_runs_total", "partial")] == 1  # one row rejected
    assert planner[("headwater_run_duration_seconds_count", "partial")] == 1
    for app in SERVICES:  # every name the list promises for this service is exported
        families = {f.name for f in text_string_to_metric_families(scraped[app])}
        exported = {m.prometheus.removesuffix("_total") for m in METRICS if m.service == app and m.kind != "gauge"}
        assert exported <= families, (app, exported - families, prometheus_names(app))
