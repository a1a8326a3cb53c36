"""Shared bench plumbing: a real stack (instance ``bench``, ports + 2000; ``HEADWATER_BENCH_INSTANCE``
and ``HEADWATER_BENCH_PORT_OFFSET`` choose others), the CLI, results.

Benchmarks print JSON and write ``bench/results/<name>.json``; they measure, they do not
assert (machines are shared and noisy: compare ratios measured in one run).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))

from headwater_ops.runtime.settings import RuntimeSettings, project_dir
from headwater_ops.runtime.stack import Stack

RESULTS = project_dir() / "bench" / "results"


@contextmanager
def bench_stack(extra_env: dict[str, str] | None = None, replicas: dict[str, int] | None = None) -> Iterator[Stack]:
    """``replicas``: app id -> processes, as ``headwater up --replicas`` (competing consumers)."""
    settings = RuntimeSettings(
        instance=os.environ.get("HEADWATER_BENCH_INSTANCE", "bench"),
        port_offset=int(os.environ.get("HEADWATER_BENCH_PORT_OFFSET", "2000")),
        persistent=False,
        start_timeout_seconds=120,
        replicas=replicas or {},
    )
    stack = Stack(settings, report=lambda m: print(f"[runtime] {m}", file=sys.stderr))
    stack.down(quiet=True)
    shutil.rmtree(settings.instance_dir, ignore_errors=True)
    try:
        stack.up(extra_env=extra_env)
        yield stack
    finally:
        stack.down(quiet=True)


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    planner = stack.apps()["planner"]
    env = {
        **os.environ,
        "HEADWATER_API_URL": f"{planner.dapr_url}/v1.0/invoke/planner/method",
        "HEADWATER_API_TOKEN": stack.api_token(),
        "DAPR_API_TOKEN": stack.dapr_api_token() or "",
    }
    result = subprocess.run(
        [sys.executable, "-m", "headwater_ops.cli.main", *args], capture_output=True, text=True, env=env, timeout=600
    )
    if result.returncode != 0:
        raise RuntimeError(f"headwater {' '.join(args)} failed: {result.stderr or result.stdout}")
    return result


def wait_for(check: Any, timeout: float, interval: float = 0.05) -> float:
    """Poll ``check`` until true; return the monotonic time it became true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return time.monotonic()
        time.sleep(interval)
    raise TimeoutError(f"not done within {timeout}s")


def rss_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def report(name: str, figures: dict[str, Any]) -> dict[str, Any]:
    figures = {"benchmark": name, **figures, "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return figures


PUSH_SOURCE = """\
source_id: {sid}
ingestion: {{mode: push}}
parse: {{format: csv}}
validate:
  fields:
    price: {{type: number, required: true, min: 0}}
store: {{key: [sku], history: scd2}}
"""


def price_csv(rows: int, price_shift: float = 0.0) -> bytes:
    lines = ["sku,name,price,currency,colour"]
    lines += [f"SKU-{i:07d},Product number {i},{(i % 1000) / 10 + price_shift:.2f},EUR,blue" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def apply_push_source(stack: Stack, sid: str, folder: Path) -> None:
    path = folder / f"{sid}.yaml"
    path.write_text(PUSH_SOURCE.format(sid=sid))
    cli(stack, "sources", "apply", "-f", str(path))


def upload(stack: Stack, sid: str, content: bytes, name: str = "prices.csv") -> dict[str, Any]:
    """POST the file through the planner's sidecar to collection-model (as `headwater upload` does)."""
    import httpx

    url = f"{stack.apps()['planner'].dapr_url}/v1.0/invoke/collection-model/method/api/v1/sources/{sid}/uploads"
    response = httpx.post(
        url,
        content=content,
        timeout=300,
        headers={
            "content-type": "text/csv",
            "x-filename": name,
            "authorization": f"Bearer {stack.api_token()}",
            "dapr-api-token": stack.dapr_api_token() or "",
        },
    )
    response.raise_for_status()
    return dict(response.json())
