"""Task results back from collection-model and the worker: run status, ``completed_until`` and
the incremental cursor.

A task is done when collection-model reported its fetch (with the number of documents it
published) and the worker reported every one of those documents, all in the same run. Only
then does its window count as completed; ``completed_until`` advances across contiguous
completed windows only, so a failed or missing window holds it back. A window that ends
failed or partial is handed to ``RetryService`` (planned again with backoff, or dead); the
run keeps the task's error. A complete task whose fetch succeeded and none of whose documents
failed moves the source's cursor to the highest its documents reported (``domain.cursor``),
before the run is closed, so whoever sees the run done sees its cursor.
"""

from __future__ import annotations

import structlog

from headwater.contracts.messages import TaskResult, TaskStatus, TimeWindow
from planner.domain.cursor import highest, may_advance, stored_cursor
from planner.domain.watermarks import advance_completed
from planner.service_layer.ports import Clock, RunRepository, StateRepository, TaskLedger, TaskProgress
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
        self, ledger: TaskLedger, runs: RunRepository, state: StateRepository, retries: RetryService, clock: Clock
    ) -> None:
        self._ledger = ledger
        self._runs = runs
        self._state = state
        self._retries = retries
        self._clock = clock

    async def on_result(self, result: TaskResult) -> str | None:
        """Record one report; returns the task's final status once it is known."""
        progress = await self._ledger.record(result)
        status = task_status(progress)
        if status is None:
            return None
        await self._advance_cursor(result, progress)
        run_id = result.run_id or progress.run_id
        error = task_error(progress) if status != TaskStatus.SUCCEEDED else None
        if run_id:
            await self._runs.record_task(run_id, result.task_id, status, self._clock.now(), error)
        window = result.window or progress.window
        if status == TaskStatus.SUCCEEDED and window is not None:
            await self._complete_window(result.source_id, result.task_id, window)
            await self._retries.succeeded(result.task_id, run_id)
        elif status != TaskStatus.SUCCEEDED:
            log.warning(
                "task did not succeed; completed watermark held back",
                source_id=result.source_id,
                task_id=result.task_id,
                status=status,
                error=error,
            )
            if window is not None:
                await self._retries.failed(result.source_id, result.task_id, window, run_id, error)
        return status

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
        new_completed = advance_completed(state.completed_until, done, origin)
        if new_completed is None or new_completed == state.completed_until:
            return
        if await self._state.advance_completed_until(source_id, new_completed):
            log.info("completed watermark advanced", source_id=source_id, completed_until=new_completed)
