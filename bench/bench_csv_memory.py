"""csv_memory: a 50 MB CSV uploaded and stored through the worker; peak RSS of the worker
process (VmHWM, reset just before through ``/proc/<pid>/clear_refs`` so the peak is this
run's; restarting the worker instead would hold the upload's delivery for Redis'
``processingTimeout``, see docs/dapr.md)."""

from __future__ import annotations

import hashlib
import tempfile
import time
from pathlib import Path

from harness import apply_push_source, bench_stack, price_csv, report, rss_peak_mb, upload, wait_for
from pymongo import MongoClient

TARGET_BYTES = 50 * 1024 * 1024


def main() -> None:
    rows = TARGET_BYTES // 48  # ~48 bytes a row
    content = price_csv(rows)
    with tempfile.TemporaryDirectory() as tmp, bench_stack() as stack:
        db = MongoClient(stack.mongodb_uri)[stack.mongodb_database]
        apply_push_source(stack, "csvmem", Path(tmp))
        pid = stack.app_pid("worker")
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
        idle = rss_peak_mb(pid)
        doc_id = f"csvmem:{hashlib.sha256(content).hexdigest()}"
        t0 = time.monotonic()
        upload(stack, "csvmem", content, "big.csv")
        t1 = wait_for(
            lambda: (db["raw_documents"].find_one({"_id": doc_id}) or {}).get("status") == "processed", 1800, 0.5
        )
        stored = db["records"].count_documents({"source_id": "csvmem"})
        peak = rss_peak_mb(pid)
    report(
        "csv_memory",
        {
            "csv_mb": round(len(content) / 2**20, 1),
            "rows": rows,
            "records_stored": stored,
            "wall_s": round(t1 - t0, 1),
            "peak_rss_mb": round(peak, 1),
            "worker_rss_before_mb": round(idle, 1),
        },
    )


if __name__ == "__main__":
    main()
