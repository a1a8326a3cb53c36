"""vs_dlt: Headwater against dlt's ``rest_api`` source on the same local paginated JSON API.

The API (``FakeApi``, in this process) serves 100,000 records, ``GET /items?offset=N&limit=1000``
-> ``{"data": [1,000 records], "total": 100000}`` (100 pages, 5 ms delay each); a record is an
``id`` plus strings, numbers, a boolean and a nested object. Both tools use their native offset
paginator on exactly that convention (stop when ``total`` is reached) and upsert by ``id``:

- headwater: a ``scheduled_pull`` source (``store: {key: [id]}``) applied and triggered with the
  CLI; done when the planner marks the run final (every page fetched, every document stored).
  The first page tells the total, so the other 99 are fetched 4 at a time
  (``pagination.concurrency: 4``); dlt's paginators walk pages one after the other. The stack runs
  two worker processes (``headwater up --replicas worker=2``), competing consumers of the pages.
- dlt_mongo: dlt 1.31.0 in its own virtualenv (``.headwater/cache/dlt-venv``, made with uv),
  a child process running ``dlt_side.py``; a ``@dlt.destination`` bulk-upserts (``ReplaceOne``)
  each 1,000-record batch into its own collection of the same FerretDB database.
- dlt_duckdb: the same pipeline into DuckDB (jsonl loader files, ``merge`` on ``id``) in a temp dir.

Three rounds, the tools' order rotated per round; each tool loads into an empty destination
(a new source id; a new pipeline, collection or DuckDB file), then runs again on the same data.
Per load: ``wall_s`` (command start -> data stored; dlt's includes starting Python and importing
dlt), ``run_s`` (headwater: the run's ``updated_at - triggered_at``; dlt: ``pipeline.run``),
``cpu_s`` (dlt: the child's rusage; headwater: the planner, collection-model and worker apps and
their daprd sidecars, from /proc/<pid>/stat; ``cli_cpu_s`` the trigger command), ``infra_cpu_s``
(FerretDB + PostgreSQL + Redis + scheduler, whoever loads), ``peak_rss_mb`` (dlt: the child's
VmHWM, as its ru_maxrss counts this process's RSS at fork; headwater: the workers' VmHWM summed, since
the stack started -- the first run after a worker restart waits ~60 s for one redelivery, Redis'
processingTimeout) and a check: exactly 100,000 records, ids 0..99,999, no duplicates. Ratios of
medians: first_load_ratio = headwater first / dlt_mongo first, vs_duckdb = headwater first /
dlt_duckdb first, rerun_ratio = headwater rerun / headwater first.
"""

from __future__ import annotations

import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import bench_stack, cli, report, rss_peak_mb, wait_for
from integration_support import FakeApi
from pymongo import MongoClient
from pymongo.database import Database

from headwater_ops.runtime.procs import redis_server_pids
from headwater_ops.runtime.settings import project_dir
from headwater_ops.runtime.stack import Stack

ROWS, PAGE, DELAY, ROUNDS = 100_000, 1_000, 0.005, 3
DLT_VERSION = "1.31.0"
DLT_VENV = project_dir() / ".headwater" / "cache" / "dlt-venv"
DLT_SIDE = Path(__file__).with_name("dlt_side.py")
APPS = ("planner", "collection-model", "worker")
WORKERS = 2  # worker processes: competing consumers of raw-documents, one per core
TOOLS = ("headwater", "dlt_mongo", "dlt_duckdb")
TICK = os.sysconf("SC_CLK_TCK")
SOURCE = """\
source_id: {sid}
ingestion:
  mode: scheduled_pull
  schedule: "0 3 1 1 *"
  request:
    base_url: {url}/items
    allow_private_hosts: ["127.0.0.1"]
    pagination: {{type: offset, offset_param: offset, limit_param: limit, page_size: {page},
                  records_path: data, total_path: total, concurrency: 4}}
parse: {{format: json, records_path: data}}
store: {{key: [id]}}
"""


@dataclass
class Bench:
    stack: Stack
    db: Database[Any]
    api_url: str
    tmp: Path
    dlt_python: Path


def dataset() -> list[dict[str, Any]]:
    categories = ("tools", "garden", "kitchen", "toys", "books")
    return [
        {
            "id": i,
            "sku": f"SKU-{i:07d}",
            "name": f"Product number {i}",
            "price": (i % 1000) / 10,
            "quantity": i % 97,
            "active": i % 3 != 0,
            "category": categories[i % 5],
            "meta": {"warehouse": f"W{i % 12}", "weight_kg": (i % 50) / 4},
        }
        for i in range(ROWS)
    ]


def dlt_python() -> Path:
    """dlt's own virtualenv (made once, reused while it holds the pinned version)."""
    python = DLT_VENV / "bin" / "python"
    probe = [str(python), "-c", "import dlt, duckdb, pymongo; print(dlt.__version__)"]
    if python.exists() and subprocess.run(probe, capture_output=True, text=True).stdout.strip() == DLT_VERSION:
        return python
    import pymongo

    uv = Path(sys.executable).with_name("uv")
    subprocess.run([uv, "venv", "--clear", "--python", sys.executable, str(DLT_VENV)], check=True)
    packages = [f"dlt[duckdb]=={DLT_VERSION}", f"pymongo=={pymongo.version}"]
    subprocess.run([uv, "pip", "install", "--python", str(python), *packages], check=True)
    return python


def cpu_s(pid: int) -> float:
    """utime + stime (+ children waited for) of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / TICK


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == str(pid):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def infra_pids(stack: Stack) -> list[int]:
    """FerretDB, PostgreSQL (the postmaster and its backends), Redis and the Dapr scheduler."""
    named = [pid for name, pid in stack.pids().items() if name.split()[0] in ("postgres", "ferretdb", "scheduler")]
    postmasters = [pid for name, pid in stack.pids().items() if name.split()[0] == "postgres"]
    return named + [c for p in postmasters for c in children(p)] + redis_server_pids(stack.ports.redis)


def total_cpu(pids: list[int]) -> dict[int, float]:
    found = {}
    for pid in pids:
        try:
            found[pid] = cpu_s(pid)
        except OSError:
            continue
    return found


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(after[p] - before.get(p, 0.0) for p in after)


def verified(ids: list[Any]) -> bool:
    return len(ids) == ROWS and set(ids) == set(range(ROWS))


def headwater_load(b: Bench, sid: str) -> dict[str, Any]:
    workers = [b.stack.app_pid("worker", replica=n) for n in range(WORKERS)]
    apps = [e for e in b.stack.endpoints() if e.app_id in APPS]
    services = [b.stack.app_pid(e.app_id, role, e.replica) for e in apps for role in ("app", "daprd")]
    cpu0, infra0 = total_cpu(services), total_cpu(infra_pids(b.stack))
    cli0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    out = cli(b.stack, "sources", "trigger", sid).stdout
    cli1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    run_id = re.search(r"run (\S+)", out)
    if run_id is None:
        raise RuntimeError(f"no run started: {out}")
    final = ("succeeded", "partial", "failed")
    runs = b.db["runs"]
    t1 = wait_for(lambda: (runs.find_one({"_id": run_id[1]}) or {}).get("status") in final, 600)
    run = runs.find_one({"_id": run_id[1]}) or {}
    cpu1, infra1 = total_cpu(services), total_cpu(infra_pids(b.stack))
    ids = [d["data"]["id"] for d in b.db["records"].find({"source_id": sid, "deleted": {"$ne": True}}, {"data.id": 1})]
    return {
        "wall_s": t1 - t0,
        "run_s": (run["updated_at"] - run["triggered_at"]).total_seconds(),
        "cpu_s": cpu_delta(cpu0, cpu1),
        "cli_cpu_s": cli1.ru_utime + cli1.ru_stime - cli0.ru_utime - cli0.ru_stime,
        "infra_cpu_s": cpu_delta(infra0, infra1),
        "peak_rss_mb": sum(rss_peak_mb(pid) for pid in workers),
        "status": run.get("status"),
        "verified": verified(ids) and run.get("status") == "succeeded",
    }


def dlt_spec(b: Bench, tool: str, round_no: int) -> dict[str, Any]:
    name = f"vs_dlt_{tool}_r{round_no}"
    return {
        "destination": tool.removeprefix("dlt_"),
        "api_url": b.api_url,
        "page_size": PAGE,
        "pipeline": name,
        "pipelines_dir": str(b.tmp / name),
        "mongodb_uri": b.stack.mongodb_uri,
        "mongodb_database": b.stack.mongodb_database,
        "collection": "dlt_items",
        "duckdb_file": str(b.tmp / f"{name}.duckdb"),
    }


def dlt_child(b: Bench, command: str, spec: dict[str, Any]) -> tuple[dict[str, Any], float, resource.struct_rusage]:
    """Run dlt_side.py in dlt's venv; its JSON answer, wall seconds and rusage."""
    out, err = b.tmp / "dlt.out", b.tmp / "dlt.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        t0 = time.monotonic()
        proc = subprocess.Popen([b.dlt_python, DLT_SIDE, command, json.dumps(spec)], stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"dlt_side.py {command} failed: {err.read_text()[-3000:]}")
    return json.loads(out.read_text().strip().splitlines()[-1]), wall, usage


def dlt_load(b: Bench, spec: dict[str, Any]) -> dict[str, Any]:
    infra0 = total_cpu(infra_pids(b.stack))
    answer, wall, usage = dlt_child(b, "load", spec)
    infra1 = total_cpu(infra_pids(b.stack))
    if spec["destination"] == "mongo":
        ids = [d["_id"] for d in b.db[spec["collection"]].find({}, {"_id": 1})]
        ok = verified(ids) and b.db[spec["collection"]].count_documents({"id": {"$exists": True}}) == ROWS
    else:
        found, _, _ = dlt_child(b, "verify-duckdb", spec)
        ok = found == {"count": ROWS, "distinct": ROWS, "min": 0, "max": ROWS - 1}
    return {
        "wall_s": wall,
        "run_s": answer["run_s"],
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "infra_cpu_s": cpu_delta(infra0, infra1),
        "peak_rss_mb": answer["peak_rss_mb"],
        "verified": ok,
    }


def tool_round(b: Bench, tool: str, round_no: int) -> dict[str, dict[str, Any]]:
    """One tool's first load into an empty destination, then the same load again."""
    if tool == "headwater":
        sid = f"vsdlt-r{round_no}"
        (b.tmp / f"{sid}.yaml").write_text(SOURCE.format(sid=sid, url=b.api_url, page=PAGE))
        cli(b.stack, "sources", "apply", "-f", str(b.tmp / f"{sid}.yaml"))
        loads = {"first": headwater_load(b, sid), "rerun": headwater_load(b, sid)}
        b.db["records"].delete_many({"source_id": sid})  # the next round's records start alike
        return loads
    spec = dlt_spec(b, tool, round_no)
    b.db[spec["collection"]].drop()  # (dlt_duckdb does not use it)
    return {"first": dlt_load(b, spec), "rerun": dlt_load(b, spec)}


def rounded(load: dict[str, Any]) -> dict[str, Any]:
    out = {k: round(v, 3) if isinstance(v, float) else v for k, v in load.items()}
    return out | {"records_per_s": round(ROWS / load["wall_s"])}


def summary(results: dict[str, list[dict[str, dict[str, Any]]]]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for tool, rounds in results.items():
        tool_figures: dict[str, Any] = {"rounds": [{k: rounded(v) for k, v in r.items()} for r in rounds]}
        for kind in ("first", "rerun"):
            for key in ("wall_s", "run_s", "cpu_s", "infra_cpu_s", "peak_rss_mb"):
                tool_figures[f"{kind}_{key}_median"] = round(statistics.median(r[kind][key] for r in rounds), 3)
            tool_figures[f"{kind}_records_per_s_median"] = round(ROWS / tool_figures[f"{kind}_wall_s_median"])
        figures[tool] = tool_figures
    hw, mongo, duck = (figures[t] for t in TOOLS)
    return figures | {
        "first_load_ratio": round(hw["first_wall_s_median"] / mongo["first_wall_s_median"], 3),
        "vs_duckdb": round(hw["first_wall_s_median"] / duck["first_wall_s_median"], 3),
        "rerun_ratio": round(hw["rerun_wall_s_median"] / hw["first_wall_s_median"], 3),
        "first_load_ratio_run_s": round(hw["first_run_s_median"] / mongo["first_run_s_median"], 3),
        "first_load_cpu_ratio": round(hw["first_cpu_s_median"] / mongo["first_cpu_s_median"], 3),
        "all_verified": all(load["verified"] for rounds in results.values() for r in rounds for load in r.values()),
    }


def main() -> None:
    started = time.monotonic()
    python = dlt_python()
    records = dataset()
    results: dict[str, list[dict[str, dict[str, Any]]]] = {tool: [] for tool in TOOLS}
    with tempfile.TemporaryDirectory() as tmp, bench_stack(replicas={"worker": WORKERS}) as stack, FakeApi() as api:
        api.delay = DELAY
        api.routes["/items"] = lambda q, h: (
            200,
            {"data": records[int(q["offset"]) : int(q["offset"]) + int(q["limit"])], "total": ROWS},
        )
        bench = Bench(stack, MongoClient(stack.mongodb_uri)[stack.mongodb_database], api.url, Path(tmp), python)
        for round_no in range(ROUNDS):
            for tool in TOOLS[round_no:] + TOOLS[:round_no]:
                print(f"[vs_dlt] round {round_no + 1}: {tool}", file=sys.stderr, flush=True)
                results[tool].append(tool_round(bench, tool, round_no))
    figures = {"rows": ROWS, "page_size": PAGE, "page_delay_s": DELAY, "rounds": ROUNDS, "dlt_version": DLT_VERSION}
    report("vs_dlt", figures | summary(results) | {"bench_s": round(time.monotonic() - started, 1)})


if __name__ == "__main__":
    main()
