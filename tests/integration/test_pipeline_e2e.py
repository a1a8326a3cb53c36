"""End to end on the real runtime: a source applied with the CLI is triggered, fetched from a
local HTTP server (pagination, API key from the secret store, 500 and 429 on the way),
de-duplicated, parsed, validated, stored with history, and reported back to the planner."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from integration_support import FakeApi, cli, until  # type: ignore[import-not-found]
from pymongo import AsyncMongoClient

from headwater_ops.runtime.stack import Stack, StackInfo

pytestmark = pytest.mark.integration
SECRET = "e2e-Key-7f3a9c21d4"


def products(prices: dict[str, float]) -> Any:
    items = [
        {"sku": sku, "title": f"Product {sku}", "pricing": {"amount": p, "currency": "EUR"}}
        for sku, p in prices.items()
    ]

    def route(query: dict[str, str], headers: dict[str, str]) -> tuple[int, Any]:
        if headers.get("X-API-Key") != SECRET:
            return 401, {"error": "bad key"}
        page, size = int(query.get("page", "1")), int(query.get("per_page", "2"))
        return 200, {"items": items[(page - 1) * size : page * size]}

    return route


def source(sid: str, base: str, extra: str = "") -> str:
    return f"""\
source_id: {sid}
ingestion:
  mode: scheduled_pull
  schedule: "0 3 * * *"
  request:
    base_url: {base}/products
    auth_type: api_key
    secret_key: e2e:api_key
    auth_header: X-API-Key
    allow_private_hosts: ["127.0.0.1"]
    pagination: {{type: page_number, size_param: per_page, page_size: 2, records_path: items}}
  retry: {{max_attempts: 4, initial_seconds: 0.2, max_seconds: 2}}
{extra}parse: {{format: json, records_path: items}}
map:
  fields: {{sku: sku, name: title, price: pricing.amount, currency: pricing.currency}}
validate:
  fields:
    price: {{type: number, required: true, min: 0}}
store: {{key: [sku], history: scd2}}
"""


async def test_pull_pipeline_end_to_end(
    stack: Stack, runtime: StackInfo, tmp_path: Path, mongo: AsyncMongoClient
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"e2e-{uuid.uuid4().hex[:6]}"
    with FakeApi() as api:
        api.routes["/products"] = products({"A-1": 10.0, "A-2": 20.0, "A-3": -5.0})
        api.failures_left["/products"] = [500, 429]
        file = tmp_path / "s.yaml"
        file.write_text(source(sid, api.url))
        assert cli(stack, "sources", "apply", "-f", str(file)).returncode == 0

        triggered = cli(stack, "sources", "trigger", sid)
        assert triggered.returncode == 0, triggered.stderr

        async def stored() -> int:
            return await db["records"].count_documents({"source_id": sid})

        assert await until(lambda: _eq(stored, 2)), "records never arrived"
        # page 1 after one 500 and one 429, then page 2, which is short (1 of 2): the end
        assert [r["query"].get("page") for r in api.requests] == ["1", "1", "1", "2"]
        assert all(r["headers"].get("X-API-Key") == SECRET for r in api.requests)

        rejected = await db["parsing_logs"].find({"source_id": sid}).to_list()
        assert [(r["row"], r["field"]) for r in rejected] == [(1, "price")]
        assert "below the minimum" in rejected[0]["reason"]
        record = await db["records"].find_one({"_id": f"{sid}:A-1"})
        assert record["data"]["price"] == 10.0 and record["version"] == 1

        # the task completes: collection-model's and the worker's results reach the planner
        async def run_done() -> Any:
            runs = await db["runs"].find({"source_id": sid}).to_list()
            return runs and runs[0]["status"] in ("succeeded", "partial") and runs[0]

        run = await until(run_done)
        assert run and run["status"] == "partial"  # one row was rejected

        # second run: same content for page 1, a price change on page 2 → SCD-2 history
        api.routes["/products"] = products({"A-1": 10.0, "A-2": 25.0, "A-3": -5.0})
        assert cli(stack, "sources", "trigger", sid).returncode == 0

        async def new_version() -> bool:
            doc = await db["records"].find_one({"_id": f"{sid}:A-2"})
            return bool(doc and doc["version"] == 2)

        assert await until(new_version)
        closed = await db["record_versions"].find({"source_id": sid, "natural_key": "A-2"}).to_list()
        assert [(v["version"], v["is_current"], v["data"]["price"]) for v in closed] == [(1, False, 20.0)]
        current = await db["records"].find_one({"_id": f"{sid}:A-2"})
        assert (current["is_current"], current["valid_from"]) == (True, closed[0]["valid_to"])
        assert "valid_to" not in current and "deleted" not in current  # a live current document
        a1 = await db["records"].find_one({"_id": f"{sid}:A-1"})
        assert a1["version"] == 1
        page2 = await db["raw_documents"].find_one({"source_id": sid, "document_key": "page-2"})
        assert page2 is not None and page2.get("duplicates") == 1  # unchanged page 2: not parsed again

    logs = [*Path(runtime.instance_dir / "logs").glob("*.log")]
    logs += [p for ep in runtime.apps.values() for p in (ep.app_dir / ".dapr" / "logs").glob("*.log")]
    for log in logs:
        assert SECRET not in log.read_text(errors="replace"), f"the API key leaked into {log}"


async def _eq(fn: Any, value: int) -> bool:
    return await fn() == value


async def test_iteration_fans_out_through_the_mcp_app_within_concurrency(
    stack: Stack, runtime: StackInfo, tmp_path: Path, mongo: AsyncMongoClient
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"fan-{uuid.uuid4().hex[:6]}"
    with FakeApi() as api:
        api.delay = 0.3
        api.routes["/weather/r03"] = lambda q, h: (500, {"error": "always down"})
        for i in range(1, 13):
            if i != 3:
                api.routes[f"/weather/r{i:02d}"] = (lambda n: lambda q, h: (200, {"region": n, "t": 20}))(i)
        file = tmp_path / "fan.yaml"
        file.write_text(f"""\
source_id: {sid}
ingestion:
  mode: scheduled_pull
  schedule: "0 3 * * *"
  request:
    base_url: {api.url}
    path: /weather/{{item.id}}
    allow_private_hosts: ["127.0.0.1"]
  iteration: {{foreach: region, source_mcp: plantation-mcp, source_tool: list_active_regions, concurrency: 3}}
  retry: {{max_attempts: 2, initial_seconds: 0.1, max_seconds: 0.2}}
""")
        assert cli(stack, "sources", "apply", "-f", str(file)).returncode == 0
        assert cli(stack, "sources", "trigger", sid).returncode == 0

        async def docs() -> bool:
            return await db["raw_documents"].count_documents({"source_id": sid}) == 11

        assert await until(docs), "documents of the 11 healthy regions never arrived"
        assert api.max_in_flight == 3
        linkage = await db["raw_documents"].find_one({"source_id": sid, "document_key": "region=r05/page-1"})
        assert linkage["linkage"]["region"]["name"] == "coast"

        async def outcome() -> Any:
            return await db["task_reports"].find_one({"source_id": sid, "reporter": "collection-model"})

        report = await until(outcome)
        assert report["status"] == "partial" and report["documents"] == 11
