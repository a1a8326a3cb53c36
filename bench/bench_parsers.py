"""parsers: the worker's pure pipeline (parse → map → validate → natural key) without I/O.

A 100k-row CSV (semicolons, decimal commas, currency symbols) and a 20k-row xlsx are written to
a temp dir by a child process, so this process's peak RSS (``ru_maxrss``) reflects parsing
alone: the document bytes plus the streaming parser. Prints JSON and writes
``bench/results/parsers.json``; it measures, it does not assert.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from worker.domain.mapping import Mapper, MappingRules
from worker.domain.parsers import ParseOptions, parse_document
from worker.domain.records import MissingKeyError, natural_key
from worker.domain.validation import FieldRuleSpec, validate_record

CSV_ROWS = 100_000
XLSX_ROWS = 20_000
RESULTS = Path(__file__).resolve().parent / "results"
HEADER = ["Product Code", "Description", "Unit Price", "Currency", "Qty", "Colour", "Size"]
RULES = MappingRules(
    fields={"sku": "product code"},
    fuzzy=True,
    fuzzy_threshold=85,
    standard_fields=["sku", "name", "price", "currency", "qty"],
)
CHECKS = {
    "sku": FieldRuleSpec(type="string", required=True, pattern=r"SKU-\d+"),
    "price": FieldRuleSpec(type="number", required=True, min=0),
    "currency": FieldRuleSpec(enum=["EUR", "USD"]),
    "qty": FieldRuleSpec(type="integer", min=0),
}


def _row(i: int) -> list[Any]:
    price = "" if i % 997 == 0 else f"€ {i % 5000},{i % 100:02d}"  # a few invalid rows
    return [f"SKU-{i}", f"Widget {i} - größe {i % 7}", price, "EUR", str(i % 50), "red", None]


def generate(directory: Path) -> None:
    from openpyxl import Workbook

    lines = [";".join(HEADER)] + [";".join(c or "" for c in _row(i)) for i in range(CSV_ROWS)]
    (directory / "prices.csv").write_bytes(("\n".join(lines) + "\n").encode("cp1252", "replace"))
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Prices")
    sheet.append(HEADER)
    for i in range(XLSX_ROWS):
        row = _row(i)
        row[2] = float(i % 5000) + (i % 100) / 100 if row[2] else None  # numeric cells, as Excel keeps them
        row[4] = i % 50
        sheet.append(row)
    book.save(directory / "prices.xlsx")


def pipeline(content: bytes, options: ParseOptions) -> dict[str, Any]:
    mapper = Mapper(RULES, table=True)
    rows = valid = 0
    start = time.perf_counter()
    for row in parse_document(content, options):
        rows += 1
        clean, problems = validate_record(mapper(row.data), CHECKS)
        if not problems:
            try:
                natural_key(clean, ["sku"])
                valid += 1
            except MissingKeyError:
                pass
    seconds = time.perf_counter() - start
    return {
        "rows": rows,
        "rows_valid": valid,
        "bytes": len(content),
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds),
    }


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def main() -> None:
    if sys.argv[1:2] == ["--generate"]:
        generate(Path(sys.argv[2]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, __file__, "--generate", tmp], check=True)
        baseline = _rss_mb()
        figures: dict[str, Any] = {
            "csv": pipeline((Path(tmp) / "prices.csv").read_bytes(), ParseOptions(format="csv")),
            "xlsx": pipeline((Path(tmp) / "prices.xlsx").read_bytes(), ParseOptions(format="xlsx")),
        }
    figures = {
        "benchmark": "parsers",
        **figures,
        "peak_rss_mb": round(_rss_mb(), 1),
        "rss_before_parsing_mb": round(baseline, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "parsers.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
