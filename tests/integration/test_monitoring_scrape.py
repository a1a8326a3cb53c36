"""The dashboard of deploy/monitoring reads only metric names that a real stack exports: after
an upload, every service's /metrics and every sidecar's metrics port are scraped and each
metric the dashboard's queries select is found (and the alert rules', except the external
ones: Prometheus' `up`, redis_exporter's stream lag)."""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from integration_support import FakeApi, cli, until  # type: ignore[import-not-found]

from headwater_ops.runtime.stack import Stack, StackInfo

sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "deploy"))
from monitoring_support import OTHER_METRICS, dashboard_exprs, metric_names, rules

SOURCE = """\
source_id: {sid}
ingestion: {{mode: push}}
parse: {{format: {fmt}}}
map: {{fields: {{sku: sku, price: price}}}}
validate: {{fields: {{price: {{type: number, required: true, min: 0}}}}}}
store: {{key: [sku], history: scd2}}
"""


PULL = """\
source_id: {sid}
ingestion:
  mode: scheduled_pull
  schedule: "0 3 1 1 *"
  request:
    base_url: {base}/orders
    parameters: {{from: "{{window.from}}"}}
    allow_private_hosts: ["127.0.0.1"]
  retry: {{max_attempts: 3, initial_seconds: 0.2, max_seconds: 1}}
  window: {{cadence: 1h, start: "{start}", slice: 1h}}
parse: {{format: json, records_path: orders}}
store: {{key: [id], history: scd2}}
"""


def families(text: str) -> set[str]:
    return {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}


async def test_every_metric_of_the_dashboard_and_the_rules_is_in_a_real_scrape(
    stack: Stack, runtime: StackInfo, tmp_path: Path
) -> None:
    sid, pull = f"mon-{uuid.uuid4().hex[:6]}", f"mon-pull-{uuid.uuid4().hex[:6]}"
    bad = f"mon-bad-{uuid.uuid4().hex[:6]}"
    for name, fmt in ((sid, "csv"), (bad, "json")):
        (tmp_path / "s.yaml").write_text(SOURCE.format(sid=name, fmt=fmt))
        assert cli(stack, "sources", "apply", "-f", str(tmp_path / "s.yaml")).returncode == 0
    (tmp_path / "p.csv").write_text("sku,price\nA,1\nB,-1\n")  # a stored record and a rejected row
    assert cli(stack, "upload", sid, str(tmp_path / "p.csv")).returncode == 0
    (tmp_path / "broken.json").write_text('{"items": [1, 2')  # a dead letter
    assert cli(stack, "upload", bad, str(tmp_path / "broken.json")).returncode == 0
    wanted = set().union(*(metric_names(e) for e in dashboard_exprs())) - OTHER_METRICS
    wanted |= set().union(*(metric_names(r["expr"]) for r in rules())) - OTHER_METRICS
    scraped: set[str] = set()
    start = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0).isoformat()
    with FakeApi() as api:  # a windowed pull: fetches, windows, runs and the watermark lag
        asked: set[str] = set()

        def orders(query: dict[str, str], headers: dict[str, str]) -> tuple[int, Any]:
            first = query["from"] not in asked  # each window's first attempt fails: a retry
            asked.add(query["from"])
            return (503, {"error": "busy"}) if first else (200, {"orders": [{"id": query["from"]}]})

        api.routes["/orders"] = orders
        (tmp_path / "w.yaml").write_text(PULL.format(sid=pull, base=api.url, start=start))
        assert cli(stack, "sources", "apply", "-f", str(tmp_path / "w.yaml")).returncode == 0
        assert cli(stack, "sources", "trigger", pull).returncode == 0

        async def all_exported() -> bool:
            scraped.update(await scrape(runtime))
            return wanted <= scraped

        found = await until(all_exported, timeout=90, interval=3)
    print(f"\n[monitoring] {len(scraped)} metric families scraped; the dashboard and rules read {len(wanted)}")
    assert found, f"not exported by a real stack: {sorted(wanted - scraped)}"
    for gone in (sid, bad, pull):
        cli(stack, "sources", "delete", gone)


async def scrape(runtime: StackInfo) -> set[str]:
    """Every metric family on the services' /metrics and the sidecars' metrics ports."""
    out: set[str] = set()
    async with httpx.AsyncClient(timeout=10) as http:
        for ep in runtime.apps.values():
            urls = [f"http://127.0.0.1:{ep.metrics_port}/metrics"]
            if ep.app_id in ("planner", "collection-model", "worker"):
                urls.append(f"{ep.app_url}/metrics")
            for url in urls:
                response = await http.get(url)
                assert response.status_code == 200, (url, response.status_code)
                out |= families(response.text)
    return out
