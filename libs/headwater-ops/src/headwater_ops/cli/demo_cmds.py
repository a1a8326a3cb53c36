"""``headwater demo``: ingest every example source end to end, offline.

Starts the example data server, applies ``config/source-configs/`` with each source's host
pointed at it (loopback admitted for the demo only), triggers every source, waits until the
work settles and prints what happened.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import typer
from rich.table import Table

from headwater.config import ConfigError, SourceConfig, dump_source_config, load_source_configs
from headwater_ops.cli.client import ApiClient, ApiError
from headwater_ops.cli.common import console, fail
from headwater_ops.runtime.settings import RuntimeSettings
from headwater_ops.runtime.stack import Stack


def _local(config: SourceConfig, base: str) -> dict[str, Any]:
    data = dump_source_config(config)
    request = data["ingestion"].get("request")
    if request:
        parts = urlsplit(request["base_url"])
        local = urlsplit(base)
        request["base_url"] = urlunsplit((local.scheme, local.netloc, parts.path, parts.query, ""))
        request["allow_private_hosts"] = ["127.0.0.1"]
        if request.get("token_url"):
            request["token_url"] = urlunsplit((local.scheme, local.netloc, urlsplit(request["token_url"]).path, "", ""))
    return data


def demo(
    folder: Path = typer.Option(Path("config/source-configs"), "-f", help="example configs"),
    wait: float = typer.Option(90.0, help="seconds to wait for the work to settle"),
) -> None:
    """Run the example sources end to end against the local example data server."""
    stack = Stack(RuntimeSettings(), report=lambda m: console.print(f"  {m}"))
    planner = stack.apps()["planner"]
    base = f"{planner.dapr_url}/v1.0/invoke"
    dapr_token = stack.dapr_api_token()
    api = ApiClient(f"{base}/planner/method", stack.api_token(), dapr_token=dapr_token)
    worker = ApiClient(f"{base}/worker/method", stack.api_token(), dapr_token=dapr_token)
    try:
        configs = load_source_configs(sorted(folder.glob("*.yaml")))
    except ConfigError as exc:
        raise fail(str(exc)) from exc
    data_url = stack.start_demo_data()
    console.print(f"example data server: {data_url}")
    for config in configs:
        result = api.request("PUT", f"/api/v1/sources/{config.source_id}", json=_local(config, data_url))
        console.print(f"source/{config.source_id} {result['status']} (version {result['version']})")
    for config in configs:
        if config.ingestion.mode != "scheduled_pull":
            continue
        try:
            result = api.request("POST", f"/api/v1/sources/{config.source_id}/trigger")
        except ApiError as exc:
            console.print(f"[red]trigger of {config.source_id} failed:[/] {exc}")
            continue
        console.print(f"triggered {config.source_id}: {result['outcome']}, {result['work_items']} work item(s)")
    _settle(worker, [c.source_id for c in configs], wait)
    summary = worker.request("GET", "/api/v1/summary")
    table = Table(
        "SOURCE", "DOCUMENTS STORED", "DUPLICATES", "FAILED", "RECORDS", "ROWS REJECTED", title="Headwater demo"
    )
    for sid in (c.source_id for c in configs):
        row = summary["sources"].get(sid, {})
        table.add_row(
            sid, *(str(row.get(k, 0)) for k in ("stored", "duplicates", "failed", "records", "rows_rejected"))
        )
    console.print(table)
    console.print(f"events emitted: {summary['counters'].get('headwater.worker.events_emitted', 0)}")
    console.print("try: headwater sources list | headwater runs list | headwater sources status orders-windowed")


def _settle(worker: ApiClient, sources: list[str], wait: float) -> None:
    """Wait until the summary stops changing for a few seconds (or ``wait`` passes)."""
    deadline, last, stable_since = time.monotonic() + wait, None, time.monotonic()
    with console.status("ingesting…"):
        while time.monotonic() < deadline:
            current = worker.request("GET", "/api/v1/summary")["sources"]
            if current != last:
                last, stable_since = current, time.monotonic()
            elif current and time.monotonic() - stable_since > 5:
                return
            time.sleep(1)
