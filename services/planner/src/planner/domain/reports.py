"""Which task reports the planner accepts: only those of a task it planned, from the reporter
it expects, while the task still waits for them.

A report (``TaskResult`` on ``task-results``) is taken as a claim to check against the run the
planner recorded, never as a fact: the run must exist and belong to the report's source, the
task must be one of the run's work items and one that was published, and a window the report
names must be the one planned for the task (the window applied is always the planned one).
A fetch report (collection-model) names no document; a worker report names one. What fails
these checks is refused (``refusal`` says why; the entrypoint dead-letters it).

Two kinds of reports are acknowledged but change nothing:

- reports of runs the planner never creates (``upload-<digest>``: collection-model's uploads,
  whose documents the worker reports too), see ``foreign_run``;
- reports of a task whose outcome the run already holds (``settled_status``): a redelivered or
  late report cannot undo a task that succeeded, nor complete one twice. A task the timeout
  sweep closed (``NO_REPORT``) is not settled: a late success still recovers its window.

Reports of the worker may arrive before the fetch report of their task (two topics, no order
between them): they are recorded and wait, since only the fetch's count of documents can
complete a task (``service_layer.results.task_status``).
"""

from __future__ import annotations

from headwater.contracts.messages import TaskResult, TimeWindow, task_id_for
from planner.domain.runs import NO_REPORT, Run
from planner.domain.watermarks import RunStatus

__all__ = ["FOREIGN_RUN_PREFIXES", "foreign_run", "planned_window", "refusal", "settled_status"]

FOREIGN_RUN_PREFIXES = ("upload-",)
"""Run ids the planner never creates (its own are uuid4 hex): collection-model's uploads."""


def foreign_run(run_id: str | None) -> bool:
    """True for a run that is not the planner's to account for (an upload's)."""
    return run_id is not None and run_id.startswith(FOREIGN_RUN_PREFIXES)


def planned_window(run: Run, task_id: str) -> TimeWindow | None:
    """The window ``run`` planned for ``task_id`` (None for an unwindowed task)."""
    return next((w for w in run.windows if task_id_for(run.source_id, w) == task_id), None)


def refusal(report: TaskResult, run: Run | None) -> str | None:
    """Why ``report`` is refused, or None when it is one the planner expects. ``run`` is the
    stored run the report names (None when there is no such run)."""
    if report.reporter == "worker" and not report.document_key:
        return "a worker report names no document"
    if report.reporter == "collection-model" and report.document_key:
        return "a fetch report names a document"
    if run is None:
        return "no run of the planner has this run id"
    if run.source_id != report.source_id:
        return "the run belongs to another source"
    if report.task_id not in run.task_ids:
        return "the task was not planned in this run"
    if not _sent(run, report.task_id):
        return "the task's work item was never published"
    if report.window is not None and report.window != planned_window(run, report.task_id):
        return "the window differs from the one planned for the task"
    return None


def settled_status(run: Run, task_id: str) -> str | None:
    """The final status ``run`` holds for ``task_id``, unless the timeout sweep set it (None
    while the task still waits for reports)."""
    status = run.task_status.get(task_id)
    if status is None or run.task_errors.get(task_id) == NO_REPORT:
        return None
    return status


def _sent(run: Run, task_id: str) -> bool:
    """False for the tasks after the one whose publishing failed (the run failed with fewer
    work items than it planned); the failing one may have got through and counts as sent."""
    sent = run.counts.get("work_items")
    if run.status is not RunStatus.FAILED or sent is None or sent >= len(run.task_ids):
        return True
    return task_id in run.task_ids[: sent + 1]
