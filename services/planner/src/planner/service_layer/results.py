"""Task results back from collection-model and the worker: run status and ``completed_until``.

A task is done when collection-model reported its fetch (with the number of documents it
published) and the worker reported every one of those documents. Only then does its
window count as completed; ``completed_until`` advances across contiguous completed
windows only, so a failed or missing window holds it back.
"""

from __future__ import annotations

from typing import Protocol

import structlog

from headwater.contracts.messages import TaskResult, TaskStatus, TimeWindow
from planner.domain.watermarks import advance_completed
from planner.service_layer.planning import RunRepository, StateRepository
from planner.service_layer.ports import Clock

__all__ = ["ResultService", "TaskLedger", "TaskProgress"]

log = structlog.get_logger(__name__)


class TaskProgress(Protocol):
    source_id: str
    run_id: str | None
    fetch_status: str | None
    documents_expected: int | None
    document_status: dict[str, str]
    window: TimeWindow | None


class TaskLedger(Protocol):
    """``task_outcomes``: the reports received per task (idempotent: a repeat changes nothing)."""

    async def record(self, result: TaskResult) -> TaskProgress: ...


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


class ResultService:
    def __init__(
        self, runs: RunRepository, state: StateRepository, clock: Clock, ledger: TaskLedger | None = None
    ) -> None:
        self._runs = runs
        self._state = state
        self._clock = clock
        self._ledger = ledger

    def attach_ledger(self, ledger: TaskLedger) -> None:
        self._ledger = ledger

    async def on_result(self, result: TaskResult) -> str | None:
        """Record one report; returns the task's final status once it is known."""
        assert self._ledger is not None, "ResultService needs a TaskLedger"
        progress = await self._ledger.record(result)
        status = task_status(progress)
        if status is None:
            return None
        run_id = result.run_id or progress.run_id
        if run_id:
            await self._update_run(run_id, result.task_id, status)
        window = result.window or progress.window
        if status == TaskStatus.SUCCEEDED and window is not None:
            await self._complete_window(result.source_id, result.task_id, window)
        elif status != TaskStatus.SUCCEEDED:
            log.warning(
                "task did not succeed; completed watermark held back",
                source_id=result.source_id,
                task_id=result.task_id,
                status=status,
                error=result.error,
            )
        return status

    async def _update_run(self, run_id: str, task_id: str, status: str) -> None:
        await self._runs.record_task(run_id, task_id, status, self._clock.now())

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
