"""Live progress of one run (``headwater runs watch``, ``sources trigger --wait``).

Polls the planner's ``GET /api/v1/runs/{id}/progress`` (the run, and what its tasks' reports add
up to) and shows rich progress bars until the run is final. Exit codes: 0 succeeded (or skipped),
1 failed, partial or not final before ``--timeout``, 3 the planner unreachable for longer than
``UNREACHABLE_GRACE`` seconds in a row (a sidecar restart is ridden out).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

from headwater_ops.cli.client import ApiClient, Unreachable

__all__ = ["EXIT_CODES", "Interval", "Timeout", "Watch", "counts_lines", "outcome_line", "progress_of"]

EXIT_CODES = {"succeeded": 0, "skipped": 0, "partial": 1, "failed": 1}
"""the exit code of each final run status (``planned`` and ``enqueued`` are not final)"""
UNREACHABLE_GRACE = 10.0

Timeout = Annotated[float, typer.Option("--timeout", help="give up (exit 1) after this many seconds")]
Interval = Annotated[float, typer.Option("--interval", help="seconds between polls", min=0.05)]


def progress_of(api: ApiClient, run_id: str) -> dict[str, Any]:
    """``{"run": …, "progress": {"tasks", "fetch", "documents", "records"}}`` of one run."""
    data: dict[str, Any] = api.request("GET", f"/api/v1/runs/{run_id}/progress")
    return data


def counts_lines(progress: dict[str, Any]) -> list[str]:
    """The counts of a run, one line each for fetch, documents, records and tasks."""
    f, d, r, t = progress["fetch"], progress["documents"], progress["records"], progress["tasks"]
    done = t["total"] - t.get("pending", 0)
    others = ", ".join(f"{k} {v}" for k, v in sorted(t.items()) if k not in ("total", "pending"))
    return [
        f"fetched    {f['pages']} page(s); items {f['fetched']} fetched, {f['failed']} failed of {f['items']}",
        f"documents  {d['stored']} stored, {d['duplicate']} duplicate, {d['failed']} failed of {d['expected']}",
        f"records    {r['created']} created, {r['updated']} updated, {r['deleted']} deleted, "
        f"{r['unchanged']} unchanged; {r['rows_rejected']} rows rejected",
        f"tasks      {done}/{t['total']} done" + (f" ({others})" if others else ""),
    ]


def outcome_line(run: dict[str, Any]) -> str:
    status = run["status"]
    line = f"run {run['run_id']} of source/{run['source_id']} {status}"
    return line + (f": {run['error']}" if run.get("error") and status != "succeeded" else "")


@dataclass
class _Bars:
    progress: Progress
    tasks: TaskID
    documents: TaskID
    detail: TaskID

    @classmethod
    def start(cls, console: Console, run_id: str) -> _Bars:
        bars = Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
        )
        bars.start()
        console.print(f"watching run {run_id} (Ctrl-C stops watching, not the run)")
        tasks = bars.add_task("tasks", total=None, detail="")
        documents = bars.add_task("documents", total=None, detail="")
        detail = bars.add_task("fetched", total=None, detail="")
        return cls(bars, tasks, documents, detail)

    def update(self, data: dict[str, Any]) -> None:
        t, d, f, r = (data["progress"][k] for k in ("tasks", "documents", "fetch", "records"))
        status = data["run"]["status"]
        self.progress.update(self.tasks, total=t["total"], completed=t["total"] - t.get("pending", 0), detail=status)
        processed = d["stored"] + d["duplicate"] + d["failed"]
        self.progress.update(
            self.documents,
            total=max(d["expected"], processed) or None,
            completed=processed,
            detail=f"stored {d['stored']} · duplicate {d['duplicate']} · failed {d['failed']}",
        )
        self.progress.update(
            self.detail,
            total=f["items"] or None,
            completed=f["fetched"] + f["failed"],
            detail=f"pages {f['pages']} · items {f['fetched']}/{f['items']} · "
            f"records +{r['created']} ~{r['updated']} -{r['deleted']}",
        )


class Watch:
    """Follows one run until it is final; ``clock`` and ``sleep`` are swappable for tests."""

    def __init__(
        self,
        api: ApiClient,
        console: Console,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._api, self._console, self._clock, self._sleep = api, console, clock, sleep

    def run(self, run_id: str, timeout: float, interval: float = 0.5) -> int:
        """Show the run's progress until it is final; print its counts and outcome; the exit code."""
        deadline, last_ok = self._clock() + timeout, self._clock()
        bars, data = _Bars.start(self._console, run_id), None
        try:
            while True:
                try:
                    data, last_ok = progress_of(self._api, run_id), self._clock()
                    bars.update(data)
                except Unreachable:
                    if self._clock() - last_ok > UNREACHABLE_GRACE:
                        raise
                if (data is not None and data["run"]["status"] in EXIT_CODES) or self._clock() >= deadline:
                    break
                self._sleep(interval)
        finally:
            bars.progress.stop()
        return self._conclude(data, timeout)

    def _conclude(self, data: dict[str, Any] | None, timeout: float) -> int:
        if data is None:
            raise Unreachable(f"no answer from the planner within {timeout:.0f} s")
        for line in counts_lines(data["progress"]):
            self._console.print(line, highlight=False)
        run = data["run"]
        code = EXIT_CODES.get(run["status"])
        if code is None:
            still = f"run {run['run_id']} still {run['status']} after {timeout:.0f} s (--timeout)"
            self._console.print(Text(still, style="yellow"))
            return 1
        self._console.print(Text(outcome_line(run), style="green" if code == 0 else "red"), soft_wrap=True)
        return code
