"""ingest: records per second end to end (upload → collection-model → Redis → worker → MongoDB),
beside a baseline measured in the same run: ``insert_many`` of the same records straight into
the same database. ratio = records_per_s / baseline_records_per_s. ``stored_shape_records_per_s``
is ``insert_many`` of the documents the pipeline stores (the records as read back from
``records``: with their version, content hash and validity), to tell the cost of what is stored
from the cost of getting it there."""

from __future__ import annotations

import hashlib
import tempfile
import time
from pathlib import Path

from harness import apply_push_source, bench_stack, price_csv, report, upload, wait_for
from pymongo import MongoClient

ROWS = 50_000


def main() -> None:
    content = price_csv(ROWS)
    with tempfile.TemporaryDirectory() as tmp, bench_stack() as stack:
        db = MongoClient(stack.mongodb_uri)[stack.mongodb_database]
        apply_push_source(stack, "ingest", Path(tmp))
        doc_id = f"ingest:{hashlib.sha256(content).hexdigest()}"
        t0 = time.monotonic()
        upload(stack, "ingest", content)
        t1 = wait_for(
            lambda: (db["raw_documents"].find_one({"_id": doc_id}) or {}).get("status") == "processed", 600, 0.1
        )
        stored = db["records"].count_documents({"source_id": "ingest"})
        pipeline = ROWS / (t1 - t0)

        records = [
            {
                "_id": f"baseline:SKU-{i:07d}",
                "source_id": "baseline",
                "natural_key": f"SKU-{i:07d}",
                "data": {
                    "sku": f"SKU-{i:07d}",
                    "name": f"Product number {i}",
                    "price": (i % 1000) / 10,
                    "currency": "EUR",
                    "colour": "blue",
                },
            }
            for i in range(ROWS)
        ]
        b0 = time.monotonic()
        for i in range(0, ROWS, 1000):
            db["bench_baseline"].insert_many(records[i : i + 1000], ordered=False)
        baseline = ROWS / (time.monotonic() - b0)
        stored_docs = [{**d, "_id": f"copy:{d['_id']}"} for d in db["records"].find({"source_id": "ingest"})]
        s0 = time.monotonic()
        for i in range(0, len(stored_docs), 1000):
            db["bench_stored_shape"].insert_many(stored_docs[i : i + 1000], ordered=False)
        stored_shape = len(stored_docs) / (time.monotonic() - s0)
    report(
        "ingest",
        {
            "rows": ROWS,
            "records_stored": stored,
            "csv_bytes": len(content),
            "seconds": round(t1 - t0, 3),
            "records_per_s": round(pipeline),
            "baseline_records_per_s": round(baseline),
            "ratio": round(pipeline / baseline, 3),
            "stored_shape_records_per_s": round(stored_shape),
        },
    )


if __name__ == "__main__":
    main()
