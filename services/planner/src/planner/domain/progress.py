"""How far a run has come: its tasks, what was fetched, what the worker did with each document.

Read from the reports of the run's tasks (``task_reports``) for ``headwater runs watch`` and
``sources trigger --wait``. Within a task the reports add up as they do for completion: the
latest fetch report counts unless an earlier one failed, and likewise per document.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from headwater.contracts.messages import TaskStatus
from planner.domain.runs import Run

__all__ = ["FETCH_COUNTS", "RECORD_COUNTS", "RunProgress", "StoredReport", "run_progress"]

FETCH_COUNTS = ("items", "pages", "fetched", "failed", "documents")
"""what a collection-model report counts (``counts`` of its ``TaskResult``)"""
RECORD_COUNTS = ("created", "updated", "deleted", "unchanged", "rows_rejected")
"""what the progress shows of a worker report's counts (``records_<kind>`` and ``rows_rejected``)"""
_DOCUMENT_STATES = {
    TaskStatus.SUCCEEDED: "stored",
    TaskStatus.PARTIAL: "stored",
    TaskStatus.DUPLICATE: "duplicate",
    TaskStatus.FAILED: "failed",
}


@dataclass(frozen=True)
class StoredReport:
    """One report of a task as the ledger keeps it (``counts`` empty for reports stored before
    the ledger kept them)."""

    task_id: str
    reporter: str
    status: str
    received_at: datetime
    document_key: str = ""
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RunProgress:
    """Counts of one run so far: ``tasks`` by final status (``pending`` for the rest), ``fetch``
    summed over the tasks' fetch reports, ``documents`` by outcome (``expected`` is what the
    fetches announced), and ``records`` summed over the documents' reports."""

    tasks: dict[str, int]
    fetch: dict[str, int]
    documents: dict[str, int]
    records: dict[str, int]


def _latest(reports: list[StoredReport], key: Callable[[StoredReport], Hashable]) -> list[StoredReport]:
    """The report that counts per ``key``: the latest, unless an earlier one failed."""
    found: dict[Hashable, StoredReport] = {}
    for rep in sorted(reports, key=lambda r: r.received_at):
        previous = found.get(key(rep))
        if previous is None or previous.status != TaskStatus.FAILED:
            found[key(rep)] = rep
    return list(found.values())


def _record_count(counts: dict[str, int], kind: str) -> int:
    return counts.get(kind if kind == "rows_rejected" else f"records_{kind}", 0)


def run_progress(run: Run, reports: Iterable[StoredReport]) -> RunProgress:
    """What the reports of ``run``'s tasks add up to (reports of other tasks are ignored)."""
    tasks = list(dict.fromkeys(run.task_ids))
    mine = [r for r in reports if r.task_id in set(tasks)]
    fetches = _latest([r for r in mine if r.reporter == "collection-model"], lambda r: r.task_id)
    documents = _latest([r for r in mine if r.reporter != "collection-model"], lambda r: (r.task_id, r.document_key))
    fetch = {k: sum(r.counts.get(k, 0) for r in fetches) for k in FETCH_COUNTS}
    outcome = Counter(_DOCUMENT_STATES.get(TaskStatus(r.status), r.status) for r in documents)
    return RunProgress(
        tasks={"total": len(tasks)} | dict(Counter(run.task_status.get(t, "pending") for t in tasks)),
        fetch=fetch,
        documents={"expected": fetch["documents"]} | {k: outcome.get(k, 0) for k in ("stored", "duplicate", "failed")},
        records={k: sum(_record_count(r.counts, k) for r in documents) for k in RECORD_COUNTS},
    )
