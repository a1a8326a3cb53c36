"""One line per benchmark from ``bench/results/*.json``: its headline figures beside their goals
(``make bench`` prints it after the runs). Figures a result does not hold are left out."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

Check = tuple[str, Callable[[float, float], bool]]
AT_MOST: Check = ("≤", operator.le)
AT_LEAST: Check = ("≥", operator.ge)

# benchmark → (figure, goal) in the order printed; a goal of None is shown without a check
HEADLINES: dict[str, list[tuple[str, tuple[Check, float] | None]]] = {
    "ingest": [
        ("records_per_s", None),
        ("baseline_records_per_s", None),
        ("ratio", (AT_LEAST, 0.5)),
        ("stored_shape_records_per_s", None),
    ],
    "fanout": [("ratio_c5", (AT_MOST, 1.15)), ("ratio_c50", (AT_MOST, 1.15)), ("ratio_c200", None)],
    "csv_memory": [("rows", None), ("wall_s", (AT_MOST, 30.0)), ("peak_rss_mb", (AT_MOST, 256.0))],
    "dedup": [("ratio", None), ("record_writes", (AT_MOST, 0.0))],
    "vs_dlt": [("first_load_ratio", (AT_MOST, 0.35)), ("vs_duckdb", (AT_MOST, 1.0)), ("rerun_ratio", (AT_MOST, 0.1))],
    "jobs_scale": [
        ("register_s", (AT_MOST, 30.0)),
        ("list_first_page_ms", None),
        ("trigger_p50_ms", (AT_MOST, 50.0)),
        ("trigger_p99_ms", (AT_MOST, 250.0)),
    ],
    "fetch": [],
    "parsers": [("peak_rss_mb", None)],
}


def line(name: str, figures: dict[str, Any]) -> str:
    parts = []
    for key, goal in HEADLINES.get(name, []):
        value = figures.get(key)
        if not isinstance(value, int | float):
            continue
        shown = str(value) if isinstance(value, int) else f"{value:g}"
        if goal is None:
            parts.append(f"{key}={shown}")
        else:
            (sign, holds), target = goal
            parts.append(f"{key}={shown} ({sign}{target:g} {'ok' if holds(value, target) else 'MISSED'})")
    return f"{name:<11} " + ("  ".join(parts) or "(see its JSON)")


def main() -> None:
    for path in sorted(RESULTS.glob("*.json")):
        figures = json.loads(path.read_text())
        print(line(str(figures.get("benchmark", path.stem)), figures))


if __name__ == "__main__":
    main()
