"""The dlt side of ``bench_vs_dlt.py``; runs inside dlt's own virtualenv (never the project's).

``python dlt_side.py load '<json spec>'`` runs one dlt ``rest_api`` pipeline against the bench's
local API and prints ``{"run_s": ..., "peak_rss_mb": ...}`` as JSON (``pipeline.run`` alone, imports
excluded; this process's VmHWM);
``python dlt_side.py verify-duckdb '<json spec>'`` prints the loaded table's id count, distinct
ids, smallest and largest id. The spec: ``destination`` (``mongo`` | ``duckdb``), ``api_url``,
``page_size``, ``pipeline``, ``pipelines_dir``, ``mongodb_uri``, ``mongodb_database``,
``collection`` (mongo) or ``duckdb_file`` (duckdb).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

import dlt
from dlt.sources.rest_api import rest_api_source


def source(spec: dict[str, Any]) -> Any:
    """The API's convention: ``GET /items?offset=N&limit=L`` -> ``{"data": [...], "total": T}``."""
    paginator = {
        "type": "offset",
        "limit": spec["page_size"],
        "offset_param": "offset",
        "limit_param": "limit",
        "total_path": "total",
    }
    return rest_api_source(
        {
            "client": {"base_url": spec["api_url"], "paginator": paginator},
            "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
            "resources": [{"name": "items", "endpoint": {"path": "items", "data_selector": "data"}}],
        }
    )


def mongo_destination(spec: dict[str, Any]) -> Any:
    """Upsert every batch by ``id`` into its own collection (one ``bulk_write`` per batch)."""
    from pymongo import MongoClient, ReplaceOne

    collection = MongoClient(spec["mongodb_uri"])[spec["mongodb_database"]][spec["collection"]]

    @dlt.destination(batch_size=spec["page_size"], name="mongo_upsert")
    def upsert(items: Any, table: Any) -> None:
        ops = [ReplaceOne({"_id": item["id"]}, {"_id": item["id"], **item}, upsert=True) for item in items]
        if ops:
            collection.bulk_write(ops, ordered=False)

    return upsert


def load(spec: dict[str, Any]) -> dict[str, Any]:
    if spec["destination"] == "mongo":
        destination, file_format = mongo_destination(spec), None
    else:
        destination, file_format = dlt.destinations.duckdb(spec["duckdb_file"]), "jsonl"
    pipeline = dlt.pipeline(
        pipeline_name=spec["pipeline"],
        pipelines_dir=spec["pipelines_dir"],
        destination=destination,
        dataset_name="vs_dlt",
    )
    t0 = time.monotonic()
    info = pipeline.run(source(spec), loader_file_format=file_format)
    run_s = time.monotonic() - t0
    info.raise_on_failed_jobs()
    return {"run_s": round(run_s, 3), "peak_rss_mb": round(peak_rss_mb(), 3)}


def peak_rss_mb() -> float:
    """VmHWM of this process (the parent's ru_maxrss would also count the bench's memory at fork)."""
    with open("/proc/self/status") as status:
        lines = status.read().splitlines()
    for line in lines:
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def verify_duckdb(spec: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    with duckdb.connect(spec["duckdb_file"], read_only=True) as con:
        count, distinct, low, high = con.execute(
            "select count(id), count(distinct id), min(id), max(id) from vs_dlt.items"
        ).fetchone()
    return {"count": count, "distinct": distinct, "min": low, "max": high}


if __name__ == "__main__":
    command, raw = sys.argv[1], sys.argv[2]
    result = load(json.loads(raw)) if command == "load" else verify_duckdb(json.loads(raw))
    print(json.dumps(result))
