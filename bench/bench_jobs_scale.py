"""jobs_scale: 10,000 scheduled sources, one Dapr Job each, on a 2-core machine.

- ``register_s``: wall time from starting ``headwater sources apply -f <folder of 10,000 files>``
  (the CLI validates every file, then sends batches of 500 to ``PUT /api/v1/sources``) until the
  planner's ``jobs`` collection holds 10,000 live entries (an entry is written only after the
  scheduler accepted its job). ``cli_parse_s`` is the CLI's share of it that only reads and
  validates the files (measured again in this process). ``jobs_registered`` is that count;
  ``jobs_verified`` how many of ``VERIFY`` random ones the Dapr Jobs API (``GET /v1.0/jobs/<name>``
  through the planner's sidecar) returns with the registered schedule.
- ``planner_rss_mb`` / ``scheduler_rss_mb``: VmRSS of the planner app and of the Dapr scheduler
  (with its embedded etcd) holding the 10,000 jobs, after the apply.
- ``list_first_page_ms``: median of ``LIST_REPEATS`` ``GET /api/v1/sources`` (the default page,
  100 sources) through the planner's sidecar; ``list_cli_ms``: median wall time of the
  ``headwater sources list`` command (a process start included); ``list_all_s``: wall time of
  ``headwater sources list --all -o json`` (pages of 1,000), ``list_all_rows`` the rows it printed.
- ``trigger_*``: ``BURST`` more sources whose cron fires at the same whole minute (all at its
  second 0), applied ahead of it, pointing at a local HTTP server that answers ``[]`` at once (the
  fetches, documents and reports they cause run on the same 2 cores during the burst). A work
  item's publish time is the millisecond Redis stamped on its ``work-items`` stream entry (the
  stream id); latency = the first entry of each source minus the due time. ``trigger_samples``
  is how many of the sources published within ``BURST_WAIT_S``; ``trigger_start_p50_ms`` /
  ``trigger_start_p99_ms`` are the due-to-``runs.triggered_at`` part (Dapr's delivery plus the
  wait for a planning slot), the rest is planning up to the publish.
"""

from __future__ import annotations

import json
import random
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from harness import bench_stack, cli, report, wait_for
from pymongo import MongoClient
from pymongo.database import Database

from headwater.config import load_source_configs
from headwater_ops.runtime.stack import Stack

SOURCES = 10_000
BURST = 1_000
VERIFY = 200
LIST_REPEATS = 9
BURST_WAIT_S = 90
SOURCE = """\
source_id: {sid}
ingestion:
  mode: scheduled_pull
  schedule: "{schedule}"
  request:
    base_url: {url}/{sid}
    allow_private_hosts: [127.0.0.1]
"""


class _Empty(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"[]")

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def fast_api() -> Iterator[str]:
    """A local API that answers every GET with ``[]`` at once."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Empty)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def write_sources(folder: Path, prefix: str, count: int, schedule: str, url: str) -> Path:
    folder.mkdir(parents=True)
    for i in range(count):
        sid = f"{prefix}-{i:05d}"
        (folder / f"{sid}.yaml").write_text(SOURCE.format(sid=sid, schedule=schedule, url=url))
    return folder


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def redis_command(port: int, *args: str) -> Any:
    """One command over RESP (the stack's Redis; no client library in the lock)."""
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"".join([f"*{len(args)}\r\n".encode()] + [f"${len(a)}\r\n{a}\r\n".encode() for a in args]))
        return _reply(conn.makefile("rb"))


def _reply(stream: Any) -> Any:
    line = stream.readline()[:-2]
    kind, rest = line[:1], line[1:]
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind in (b"+", b":"):
        return int(rest) if kind == b":" else rest.decode()
    if kind == b"$":
        return None if int(rest) < 0 else stream.read(int(rest) + 2)[:-2]
    return None if int(rest) < 0 else [_reply(stream) for _ in range(int(rest))]


def api_get(stack: Stack, path: str) -> httpx.Response:
    planner = stack.apps()["planner"]
    headers = {"authorization": f"Bearer {stack.api_token()}", "dapr-api-token": stack.dapr_api_token() or ""}
    return httpx.get(f"{planner.dapr_url}{path}", headers=headers, timeout=60)


def register(stack: Stack, db: Database[Any], folder: Path) -> dict[str, Any]:
    t0 = time.monotonic()
    cli(stack, "sources", "apply", "-f", str(folder))
    done = wait_for(lambda: db["jobs"].count_documents({"pending_delete": False}) >= SOURCES, 120, 0.2)
    sample = random.Random(7).sample(range(SOURCES), VERIFY)
    verified = 0
    for i in sample:
        job = api_get(stack, f"/v1.0/jobs/source-scale-{i:05d}")
        verified += job.status_code == 200 and job.json().get("schedule") == "0 0 3 1 1 *"
    p0 = time.monotonic()
    load_source_configs(sorted(folder.iterdir()))
    return {
        "register_s": round(done - t0, 2),
        "cli_parse_s": round(time.monotonic() - p0, 2),
        "jobs_registered": db["jobs"].count_documents({"pending_delete": False}),
        "jobs_verified": f"{verified}/{VERIFY}",
    }


def listing(stack: Stack) -> dict[str, Any]:
    first = []
    for _ in range(LIST_REPEATS):
        t0 = time.perf_counter()
        api_get(stack, "/v1.0/invoke/planner/method/api/v1/sources").raise_for_status()
        first.append((time.perf_counter() - t0) * 1000)
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        cli(stack, "sources", "list")
        runs.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    rows = json.loads(cli(stack, "sources", "list", "--all", "-o", "json").stdout)
    return {
        "list_first_page_ms": round(statistics.median(first), 1),
        "list_cli_ms": round(statistics.median(runs)),
        "list_all_s": round(time.perf_counter() - t0, 2),
        "list_all_rows": len(rows),
    }


def burst(stack: Stack, db: Database[Any], folder: Path, url: str) -> dict[str, Any]:
    due = (datetime.now(UTC) + timedelta(seconds=25)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    write_sources(folder, f"burst{due:%H%M}", BURST, f"{due.minute} {due.hour} * * *", url)
    cli(stack, "sources", "apply", "-f", str(folder))
    if datetime.now(UTC) >= due:
        raise RuntimeError(f"the burst sources were applied after their due time {due}")
    port = stack.settings.ports.redis
    before = int(redis_command(port, "XLEN", "work-items"))
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
    with suppress(TimeoutError):
        wait_for(lambda: int(redis_command(port, "XLEN", "work-items")) >= before + BURST, BURST_WAIT_S, 0.5)
    published = first_publish(port, f"burst{due:%H%M}-")
    due_ms = due.timestamp() * 1000
    latencies = sorted(at - due_ms for at in published.values())
    runs = db["runs"].find({"source_id": {"$in": list(published)}}, {"triggered_at": 1})
    starts = sorted((run["triggered_at"].replace(tzinfo=UTC) - due).total_seconds() * 1000 for run in runs)
    return {
        "trigger_p50_ms": _quantile(latencies, 0.5),
        "trigger_p99_ms": _quantile(latencies, 0.99),
        "trigger_max_ms": _quantile(latencies, 1.0),
        "trigger_samples": len(latencies),
        "trigger_start_p50_ms": _quantile(starts, 0.5),
        "trigger_start_p99_ms": _quantile(starts, 0.99),
    }


def first_publish(port: int, prefix: str) -> dict[str, float]:
    """Each source's first work item on the stream: the millisecond in its entry id."""
    found: dict[str, float] = {}
    for entry_id, fields in redis_command(port, "XRANGE", "work-items", "-", "+"):
        data = dict(zip(fields[::2], fields[1::2], strict=True))
        sid = json.loads(data[b"data"])["data"]["source_id"]
        if sid.startswith(prefix) and sid not in found:
            found[sid] = float(entry_id.split(b"-")[0])
    return found


def _quantile(values: list[float], q: float) -> float | None:
    return round(values[min(len(values) - 1, int(q * len(values)))]) if values else None


def main() -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp, fast_api() as url, bench_stack() as stack:
        db: Database[Any] = MongoClient(stack.mongodb_uri, tz_aware=True)[stack.mongodb_database]
        folder = write_sources(Path(tmp) / "sources", "scale", SOURCES, "0 3 1 1 *", url)  # fires on 1 January
        figures = {"sources": SOURCES, **register(stack, db, folder)}
        pids = stack.pids()
        scheduler = next(pid for name, pid in pids.items() if name.startswith("scheduler "))
        figures |= {"planner_rss_mb": rss_mb(stack.app_pid("planner")), "scheduler_rss_mb": rss_mb(scheduler)}
        figures |= listing(stack)
        figures |= {"burst_sources": BURST, **burst(stack, db, Path(tmp) / "burst", url)}
        figures["bench_s"] = round(time.monotonic() - started)
    report("jobs_scale", figures)


if __name__ == "__main__":
    main()
