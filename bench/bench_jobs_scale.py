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
  second 0), applied ahead of it. A work item's publish time is the millisecond Redis stamped
  on its ``work-items`` stream entry (the stream id); ``trigger_p50_ms`` / ``trigger_p99_ms`` /
  ``trigger_max_ms`` = each source's first entry minus the due time (Dapr's delivery, the
  planner's queue and the planning), over ``trigger_samples`` sources that published within
  ``BURST_WAIT_S``. ``trigger_wait_*`` is the part up to ``runs.triggered_at`` (delivery and the
  wait for one of the planner's trigger slots), ``trigger_plan_*`` the rest (lease, run record,
  publish); ``trigger_per_s`` the work items published per second from the first to the last.
  The sources' requests go to a closed local port with one attempt: the work items are
  measured when published, and each costs the rest of the platform one refused connection and
  one failure report instead of a fetch, a document and its records (the fetch and ingest
  benchmarks measure those), which would otherwise take the database from the planner.
  ``planner_only_*``: the same with another ``BURST`` sources while the collection-model app is
  stopped (SIGSTOP, resumed after): the planner alone, without the failure reports and config
  reads of the work items it already published competing for the 2 cores.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
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
  retry: {{max_attempts: 1}}
"""


def closed_port() -> int:
    """A local port nothing listens on (taken and given back at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


def burst(stack: Stack, db: Database[Any], folder: Path, url: str, paused: int | None = None) -> dict[str, Any]:
    """``BURST`` sources due at the next whole minute; ``paused``: a pid stopped meanwhile."""
    due = (datetime.now(UTC) + timedelta(seconds=25)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    write_sources(folder, f"burst{due:%H%M}", BURST, f"{due.minute} {due.hour} * * *", url)
    cli(stack, "sources", "apply", "-f", str(folder))
    if datetime.now(UTC) >= due:
        raise RuntimeError(f"the burst sources were applied after their due time {due}")
    port = stack.settings.ports.redis
    before = int(redis_command(port, "XLEN", "work-items"))
    with stopped(paused):
        time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
        with suppress(TimeoutError):
            wait_for(lambda: int(redis_command(port, "XLEN", "work-items")) >= before + BURST, BURST_WAIT_S, 0.5)
    published = first_publish(port, f"burst{due:%H%M}-")
    due_ms = due.timestamp() * 1000
    runs = {r["source_id"]: r["triggered_at"] for r in db["runs"].find({"source_id": {"$in": list(published)}})}
    started = {sid: runs[sid].replace(tzinfo=UTC).timestamp() * 1000 for sid in published if sid in runs}
    latencies = sorted(at - due_ms for at in published.values())
    waits = sorted(at - due_ms for at in started.values())
    plans = sorted(published[sid] - at for sid, at in started.items())
    spread = (max(published.values()) - min(published.values())) / 1000 if len(published) > 1 else 0.0
    return {
        "trigger_p50_ms": _quantile(latencies, 0.5),
        "trigger_p99_ms": _quantile(latencies, 0.99),
        "trigger_max_ms": _quantile(latencies, 1.0),
        "trigger_samples": len(latencies),
        "trigger_wait_p50_ms": _quantile(waits, 0.5),
        "trigger_wait_p99_ms": _quantile(waits, 0.99),
        "trigger_plan_p50_ms": _quantile(plans, 0.5),
        "trigger_plan_p99_ms": _quantile(plans, 0.99),
        "trigger_per_s": round(len(published) / spread) if spread else None,
    }


@contextmanager
def stopped(pid: int | None) -> Iterator[None]:
    if pid is not None:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        if pid is not None:
            os.kill(pid, signal.SIGCONT)


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
    url = f"http://127.0.0.1:{closed_port()}"
    with tempfile.TemporaryDirectory() as tmp, bench_stack() as stack:
        db: Database[Any] = MongoClient(stack.mongodb_uri, tz_aware=True)[stack.mongodb_database]
        folder = write_sources(Path(tmp) / "sources", "scale", SOURCES, "0 3 1 1 *", url)  # fires on 1 January
        figures = {"sources": SOURCES, **register(stack, db, folder)}
        pids = stack.pids()
        scheduler = next(pid for name, pid in pids.items() if name.startswith("scheduler "))
        figures |= {"planner_rss_mb": rss_mb(stack.app_pid("planner")), "scheduler_rss_mb": rss_mb(scheduler)}
        figures |= listing(stack)
        figures |= {"burst_sources": BURST, **burst(stack, db, Path(tmp) / "burst", url)}
        alone = burst(stack, db, Path(tmp) / "alone", url, paused=stack.app_pid("collection-model"))
        figures |= {f"planner_only_{k}": alone[k] for k in ("trigger_p50_ms", "trigger_p99_ms", "trigger_per_s")}
        figures["bench_s"] = round(time.monotonic() - started)
    report("jobs_scale", figures)


if __name__ == "__main__":
    main()
