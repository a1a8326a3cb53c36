"""dedup: ingesting identical content again. ratio = time of the second ingest over the first;
record_writes = documents in records/record_versions written during the second (want 0)."""

from __future__ import annotations

import hashlib
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from harness import apply_push_source, bench_stack, price_csv, report, upload, wait_for
from pymongo import MongoClient

ROWS = 50_000


def main() -> None:
    content = price_csv(ROWS)
    with tempfile.TemporaryDirectory() as tmp, bench_stack() as stack:
        db = MongoClient(stack.mongodb_uri, tz_aware=True)[stack.mongodb_database]
        apply_push_source(stack, "dedup", Path(tmp))
        doc_id = f"dedup:{hashlib.sha256(content).hexdigest()}"

        def raw() -> dict:
            return db["raw_documents"].find_one({"_id": doc_id}) or {}

        t0 = time.monotonic()
        upload(stack, "dedup", content, "first.csv")
        t1 = wait_for(lambda: raw().get("status") == "processed", 600, 0.02)
        before = datetime.now(UTC)
        versions_before = db["record_versions"].count_documents({"source_id": "dedup"})
        t2 = time.monotonic()
        upload(stack, "dedup", content, "again.csv")
        t3 = wait_for(lambda: raw().get("duplicates", 0) >= 1, 600, 0.02)
        writes = db["records"].count_documents({"source_id": "dedup", "updated_at": {"$gt": before}})
        writes += db["record_versions"].count_documents({"source_id": "dedup"}) - versions_before
    report(
        "dedup",
        {
            "rows": ROWS,
            "first_s": round(t1 - t0, 3),
            "second_s": round(t3 - t2, 3),
            "ratio": round((t3 - t2) / (t1 - t0), 3),
            "record_writes": writes,
        },
    )


if __name__ == "__main__":
    main()
