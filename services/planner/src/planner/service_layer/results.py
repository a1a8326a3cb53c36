"""Task results back from collection-model and the worker: run status, ``completed_until`` and
the incremental cursor.

Every report is first checked against the run the planner recorded (``domain.reports``): one
it did not ask for is refused (``Refused``, nothing recorded); one of an upload, or of a task
whose outcome its run already holds, is acknowledged and changes nothing.

A task is done when collection-model reported its fetch (with the number of documents it
published) and the worker reported every one of those documents, all in the same run. Only
then does its planned window count as completed; ``completed_until`` advances across
contiguous completed windows only, never past ``planned_until``, so a failed or missing window
holds it back. A window that ends failed or partial is handed to ``RetryService`` (planned
again with backoff, or dead); the run keeps the task's error. A complete task whose fetch
succeeded and none of whose documents failed moves the source's cursor to the highest its
documents reported (``domain.cursor``). The task's status goes into its run last, so whoever
sees the run done sees its cursor and windows, and a report redelivered after a failure in
between finds the task still open and finishes it.
"""

from __future__ import annotations

import structlog

from headwater.contracts.messages import TaskResult, TaskStatus, TimeWindow
from planner.domain.cursor import highest, may_advance, stored_cursor
from planner.domain.reports import foreign_run, planned_window, refusal, settled_status
from planner.domain.runs import Run
from planner.domain.watermarks import advance_completed
from planner.service_layer.errors import Refused
from planner.service_layer.ports import Clock, Metrics, RunRepository, StateRepository, TaskLedger, TaskProgress
from planner.service_layer.retries import RetryService

__all__ = ["ResultService", "task_error", "task_status"]

log = structlog.get_logger(__name__)


def task_status(progress: TaskProgress) -> str | None:
    """``succeeded``/``partial``/``failed`` once the task is complete, else None."""
    if progress.fetch_status == TaskStatus.FAILED:
        return TaskStatus.FAILED
    if progress.fetch_status is None or progress.documents_expected is None:
        return None
    if len(progress.document_status) < progress.documents_expected:
        return None
    statuses = set(progress.document_status.values()) | {progress.fetch_status}
    if TaskStatus.FAILED in statuses:
        return TaskStatus.PARTIAL if statuses - {TaskStatus.FAILED} else TaskStatus.FAILED
    if TaskStatus.PARTIAL in statuses:
        return TaskStatus.PARTIAL
    return TaskStatus.SUCCEEDED


def task_error(progress: TaskProgress) -> str | None:
    """The errors the task's reports gave, in one line (None when they gave none)."""
    errors = list(dict.fromkeys(e for e in progress.errors if e))
    return "; ".join(errors) or None


class ResultService:
    """Records the reports of each task and, once a task is complete, its run and window."""

    def __init__(
        self,
        ledger: TaskLedger,
        runs: RunRepository,
        state: StateRepository,
        retries: RetryService,
        clock: Clock,
        metrics: Metrics,
    ) -> None:
        self._ledger = ledger
        self._runs = runs
        self._state = state
        self._retries = retries
        self._clock = clock
        self._metrics = metrics

    async def on_result(self, result: TaskResult) -> str | None:
        """Record one report; returns the task's final status once it is known. ``Refused`` for
        a report the planner did not ask for (see the module docstring)."""
        run = await self._expected_run(result)
        if run is None:
            log.debug("report of an upload acknowledged", source_id=result.source_id, task_id=result.task_id)
            return None
        settled = settled_status(run, result.task_id)
        if settled is not None:
            log.debug("report of a settled task acknowledged", task_id=result.task_id, run_id=run.run_id)
            return settled
        progress = await self._ledger.record(result)
        status = task_status(progress)
        if status is not None:
            await self._finish(result, run, progress, status)
        return status

    async def _expected_run(self, result: TaskResult) -> Run | None:
        """The run ``result`` belongs to; None for an upload's; ``Refused`` when the planner did
        not ask for it (logged with the reason and the report's ids, never its content)."""
        if foreign_run(result.run_id):
            return None
        run = await self._runs.get(result.run_id) if result.run_id else None
        reason = refusal(result, run)
        if reason is None and run is not None:
            return run
        log.warning(
            "task result refused",
            reason=reason,
            source_id=result.source_id,
            task_id=result.task_id,
            run_id=result.run_id,
            reporter=result.reporter,
        )
        raise Refused(reason or "no such run")

    async def _finish(self, result: TaskResult, run: Run, progress: TaskProgress, status: str) -> None:
        """The task is complete: cursor, then its planned window, then the run."""
        await self._advance_cursor(result, progress)
        window = planned_window(run, result.task_id)
        error = task_error(progress) if status != TaskStatus.SUCCEEDED else None
        if status == TaskStatus.SUCCEEDED and window is not None:
            await self._complete_window(run.source_id, result.task_id, window)
            await self._retries.succeeded(result.task_id, run.run_id)
        elif status != TaskStatus.SUCCEEDED:
            log.warning(
                "task did not succeed; completed watermark held back",
                source_id=run.source_id,
                task_id=result.task_id,
                status=status,
                error=error,
            )
            if window is not None:
                await self._retries.failed(run.source_id, result.task_id, window, run.run_id, error)
        now = self._clock.now()
        closed = await self._runs.record_task(run.run_id, result.task_id, status, now, error)
        if closed is not None and set(closed.task_ids) <= set(closed.task_status):  # its last task: the run is over
            outcome = closed.status.value
            self._metrics.count("runs_closed", 1, source_id=run.source_id, outcome=outcome)
            seconds = (now - closed.triggered_at).total_seconds()
            self._metrics.observe("run_duration", seconds, source_id=run.source_id, outcome=outcome)

    async def _advance_cursor(self, result: TaskResult, progress: TaskProgress) -> None:
        if not progress.cursors or not may_advance(progress.fetch_status, progress.document_status):
            return
        value = highest(progress.cursors)
        cursor = stored_cursor(value, self._clock.now(), result.task_id) if value is not None else None
        if cursor is not None and await self._state.advance_cursor(result.source_id, cursor):
            log.info("cursor advanced", source_id=result.source_id, task_id=result.task_id, cursor=cursor.value)

    async def _complete_window(self, source_id: str, task_id: str, window: TimeWindow) -> None:
        await self._state.add_done_window(source_id, task_id, window)
        state = await self._state.get(source_id)
        origin = state.completed_until or window.start
        done = await self._state.done_windows_from(source_id, origin)
        new_completed = advance_completed(state.completed_until, done, origin, planned_until=state.planned_until)
        if new_completed is None or new_completed == state.completed_until:
            return
        if await self._state.advance_completed_until(source_id, new_completed):
            log.info("completed watermark advanced", source_id=source_id, completed_until=new_completed)
