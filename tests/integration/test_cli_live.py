"""The operator's view on the real runtime (issue 17 item 3): ``sources trigger --wait`` follows
a run to its end and exits with its outcome. (``headwater status`` flagging a killed app is a
fault test: tests/faults/test_status_flags.py — a kill leaves messages held for the stack's
processingTimeout, which the fault stack compresses.)"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from integration_support import FakeApi, cli  # type: ignore[import-not-found]

from headwater_ops.runtime.stack import Stack

pytestmark = pytest.mark.integration


def _source(sid: str, base: str) -> str:
    return f"""\
source_id: {sid}
ingestion:
  mode: scheduled_pull
  schedule: "0 3 * * *"
  request:
    base_url: {base}/items
    allow_private_hosts: ["127.0.0.1"]
    pagination: {{type: page_number, size_param: per_page, page_size: 2, records_path: items}}
  retry: {{max_attempts: 2, initial_seconds: 0.1, max_seconds: 0.2}}
parse: {{format: json, records_path: items}}
map:
  fields: {{sku: sku, price: price}}
store: {{key: [sku]}}
"""


def _items(query: dict[str, str], _headers: dict[str, str]) -> tuple[int, Any]:
    rows = [{"sku": f"S-{i}", "price": i} for i in range(3)]
    page = int(query.get("page", "1"))
    return 200, {"items": rows[(page - 1) * 2 : page * 2]}


def _apply(stack: Stack, tmp_path: Path, sid: str, base: str) -> None:
    file = tmp_path / f"{sid}.yaml"
    file.write_text(_source(sid, base))
    applied = cli(stack, "sources", "apply", "-f", str(file))
    assert applied.returncode == 0, applied.stderr


def test_trigger_wait_shows_the_run_to_its_end_and_exits_0(stack: Stack, tmp_path: Path) -> None:
    sid = f"cli-{uuid.uuid4().hex[:6]}"
    with FakeApi() as api:
        api.routes["/items"] = _items
        _apply(stack, tmp_path, sid, api.url)
        started = time.monotonic()
        waited = cli(stack, "sources", "trigger", sid, "--wait", "--timeout", "50")
    print(f"\n[trigger --wait] {time.monotonic() - started:.1f}s exit {waited.returncode}\n{waited.stdout}")
    assert waited.returncode == 0, waited.stdout + waited.stderr
    assert "fetched    2 page(s); items 1 fetched, 0 failed of 1" in waited.stdout
    assert "documents  2 stored, 0 duplicate, 0 failed of 2" in waited.stdout
    assert "records    3 created, 0 updated, 0 deleted, 0 unchanged; 0 rows rejected" in waited.stdout
    assert f"of source/{sid} succeeded" in waited.stdout


def test_trigger_wait_exits_1_when_the_run_fails(stack: Stack, tmp_path: Path) -> None:
    sid = f"cli-fail-{uuid.uuid4().hex[:6]}"
    with FakeApi() as api:
        api.routes["/items"] = lambda _q, _h: (500, {"error": "upstream broken"})
        _apply(stack, tmp_path, sid, api.url)
        waited = cli(stack, "sources", "trigger", sid, "--wait", "--timeout", "50")
    print(f"\n[trigger --wait, failing API] exit {waited.returncode}\n{waited.stdout}")
    assert waited.returncode == 1, waited.stdout + waited.stderr
    assert f"of source/{sid} failed: " in waited.stdout
    assert "HTTP 500" in waited.stdout and "items 0 fetched, 1 failed of 1" in waited.stdout
