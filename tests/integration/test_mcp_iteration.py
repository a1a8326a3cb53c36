"""Iteration over an MCP server nobody here wrote for Headwater: a server on the official MCP
Python SDK (``mcp_test_server.py``), run as its own Dapr app with its own sidecar, in the
SDK's default stateful mode (sessions, SSE replies) and in stateless mode (JSON replies).
collection-model reaches it only through Dapr service invocation."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from extra_apps import ExtraApp  # type: ignore[import-not-found]
from integration_support import FakeApi, cli, until  # type: ignore[import-not-found]
from pymongo import AsyncMongoClient

from headwater_ops.runtime.stack import Stack, StackInfo

pytestmark = pytest.mark.integration
SERVER = str(Path(__file__).with_name("mcp_test_server.py"))
MODES = {"mcp-sse": "false", "mcp-json": "true"}  # app id -> MCP_STATELESS
MCP_CONFIG = "config-plantation-mcp.yaml"  # an MCP server's access control: collection-model may call /mcp


@pytest.fixture(scope="module")
def mcp_servers(stack: Stack) -> Iterator[dict[str, ExtraApp]]:
    apps = {
        app_id: ExtraApp(stack, app_id, slot, [sys.executable, SERVER], {"MCP_STATELESS": stateless}, config=MCP_CONFIG)
        for slot, (app_id, stateless) in enumerate(MODES.items())
    }
    for app in apps.values():
        app.__enter__()
    try:
        yield apps
    finally:
        for app in apps.values():
            app.__exit__()


def forecast(query: dict[str, str], headers: dict[str, str]) -> tuple[int, Any]:
    if "latitude" not in query or "longitude" not in query:
        return 400, {"error": True, "reason": "latitude and longitude are required"}
    return 200, {"latitude": float(query["latitude"]), "longitude": float(query["longitude"]), "t": [3.1]}


def source(sid: str, api: FakeApi, server: str, tool: str, iteration: str = "") -> str:
    return f"""\
source_id: {sid}
ingestion:
  mode: scheduled_pull
  schedule: "0 3 * * *"
  request:
    base_url: {api.url}/v1/forecast
    parameters: {{latitude: "{{item.latitude}}", longitude: "{{item.longitude}}", region: "{{item.id}}"}}
    allow_private_hosts: ["127.0.0.1"]
  iteration:
    foreach: region
    source_mcp: {server}
    source_tool: {tool}
    concurrency: 3
{iteration}  retry: {{max_attempts: 2, initial_seconds: 0.1, max_seconds: 0.2}}
"""


def apply_and_trigger(stack: Stack, tmp_path: Path, sid: str, text: str) -> None:
    file = tmp_path / f"{sid}.yaml"
    file.write_text(text)
    applied = cli(stack, "sources", "apply", "-f", str(file))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    triggered = cli(stack, "sources", "trigger", sid)
    assert triggered.returncode == 0, triggered.stdout + triggered.stderr


async def run_failure(db: Any, sid: str) -> str | None:
    """The source's run once it failed: every error text it holds, joined (None before)."""
    run = await db["runs"].find_one({"source_id": sid})
    if not run or run.get("status") != "failed":
        return None
    texts = [run.get("error") or ""] + [t.get("error") or "" for t in run.get("task_status", [])]
    return " | ".join(t for t in texts if t) or "(no error text)"


@pytest.mark.parametrize("server", list(MODES))
async def test_each_region_is_fetched_once_with_its_coordinates(
    stack: Stack,
    runtime: StackInfo,
    mcp_servers: dict[str, ExtraApp],
    tmp_path: Path,
    mongo: AsyncMongoClient,
    server: str,
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"mcp-{server}-{uuid.uuid4().hex[:6]}"
    with FakeApi() as api:
        api.delay = 0.3
        api.routes["/v1/forecast"] = forecast
        text = source(sid, api, server, "list_regions", "    arguments: {count: 12}\n")
        apply_and_trigger(stack, tmp_path, sid, text)

        async def twelve() -> bool:
            return await db["raw_documents"].count_documents({"source_id": sid}) == 12

        assert await until(twelve, timeout=60), "the 12 regions' documents never arrived"
        regions = sorted(r["query"]["region"] for r in api.requests)
        assert regions == [f"g{n:02d}" for n in range(1, 13)], "each region must be fetched exactly once"
        assert api.max_in_flight == 3, "the fan-out keeps to the configured concurrency"
        docs = [d async for d in db["raw_documents"].find({"source_id": sid})]
        assert len({d["content_hash"] for d in docs}) == 12, "every region's forecast is its own document"
        g05 = next(d for d in docs if d["document_key"] == "region=g05/page-1")
        assert g05["linkage"]["region"]["latitude"] == 46.25
        sent = next(r["query"] for r in api.requests if r["query"]["region"] == "g05")
        assert (sent["latitude"], sent["longitude"]) == ("46.25", str(5.0 + 5 / 3))


@pytest.mark.parametrize("server", list(MODES))
async def test_a_tool_reporting_is_error_fails_the_run_naming_server_and_tool(
    stack: Stack,
    runtime: StackInfo,
    mcp_servers: dict[str, ExtraApp],
    tmp_path: Path,
    mongo: AsyncMongoClient,
    server: str,
) -> None:
    db = mongo[runtime.mongodb_database]
    sid = f"mcp-err-{uuid.uuid4().hex[:6]}"
    with FakeApi() as api:
        api.routes["/v1/forecast"] = forecast
        apply_and_trigger(stack, tmp_path, sid, source(sid, api, server, "refuse"))
        error = await until(lambda: run_failure(db, sid), timeout=60)
        assert error, "the run never failed"
        assert f"MCP server '{server}'" in error and "tool 'refuse'" in error and "isError" in error, error
        assert api.requests == []


async def test_a_tool_that_never_answers_times_out_while_other_sources_go_on(
    stack: Stack, runtime: StackInfo, mcp_servers: dict[str, ExtraApp], tmp_path: Path, mongo: AsyncMongoClient
) -> None:
    db = mongo[runtime.mongodb_database]
    stuck, fine = f"mcp-stuck-{uuid.uuid4().hex[:6]}", f"mcp-fine-{uuid.uuid4().hex[:6]}"
    with FakeApi() as api:
        api.routes["/v1/forecast"] = forecast
        apply_and_trigger(stack, tmp_path, stuck, source(stuck, api, "mcp-sse", "stall", "    timeout_seconds: 3\n"))
        extra = "    arguments: {count: 5, prefix: f}\n"
        apply_and_trigger(stack, tmp_path, fine, source(fine, api, "mcp-json", "list_regions", extra))

        async def five() -> bool:
            return await db["raw_documents"].count_documents({"source_id": fine}) == 5

        assert await until(five, timeout=60), "the other source's items did not go on"
        error = await until(lambda: run_failure(db, stuck), timeout=60)
        assert error, "the stalled run never failed"
        assert "MCP server 'mcp-sse'" in error and "tool 'stall'" in error and "no answer within 3s" in error, error
