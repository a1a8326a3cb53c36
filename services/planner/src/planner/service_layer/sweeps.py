"""The planner's periodic sweep: runs that can no longer finish, and jobs waiting for the scheduler.

A run whose tasks cannot all report (a report lost, a work item dropped, the planner gone in
the middle of planning) would stay ``planned`` or ``enqueued`` for ever. Each run carries a
``deadline_at`` (``domain.runs.run_deadline``); once it has passed, the sweep hands each task
without a final status to ``RetryService.failed`` (its window becomes a failed window, retried
with backoff by later runs up to ``ingestion.window.max_attempts``) and then closes the run as
failed, naming the missing tasks. Windows first, run last: a sweep that stops in between is
finished by the next one. A report that arrives after all is still recorded: a success
recovers its window.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog

from headwater.contracts.messages import task_id_for
from planner.domain.runs import NO_REPORT, Run, missing_tasks, timeout_error
from planner.service_layer.jobs import JobRegistrationService, SyncReport
from planner.service_layer.ports import Clock, Metrics, RunRepository
from planner.service_layer.retries import RetryService

__all__ = ["SweepReport", "Sweeper"]

log = structlog.get_logger(__name__)


@dataclass
class SweepReport:
    closed_runs: list[str] = field(default_factory=list)
    jobs: SyncReport = field(default_factory=SyncReport)


class Sweeper:
    """Closes overdue runs and retries pending job deletions (``sweep``, called periodically)."""

    def __init__(
        self,
        runs: RunRepository,
        retries: RetryService,
        jobs: JobRegistrationService,
        clock: Clock,
        metrics: Metrics,
        batch: int = 100,
    ) -> None:
        self._runs = runs
        self._retries = retries
        self._jobs = jobs
        self._clock = clock
        self._metrics = metrics
        self._batch = batch

    async def sweep(self) -> SweepReport:
        """One pass: overdue runs, then the jobs (each part on its own: a failing one does not stop the other)."""
        report = SweepReport()
        try:
            report.closed_runs = await self.close_overdue_runs()
        finally:
            report.jobs = await self._jobs.sweep()
        return report

    async def close_overdue_runs(self) -> list[str]:
        """Close every run whose deadline has passed; returns their ids."""
        now = self._clock.now()
        closed = []
        for run in await self._runs.overdue(now, self._batch):
            await self._fail_missing_windows(run)
            error = timeout_error(run)
            if await self._runs.close_overdue(run, error, now):
                closed.append(run.run_id)
                self._metrics.count("runs_timed_out", 1, source_id=run.source_id)
                log.warning("run timed out: closed as failed", source_id=run.source_id, run_id=run.run_id, error=error)
        return closed

    async def _fail_missing_windows(self, run: Run) -> None:
        windows = {task_id_for(run.source_id, w): w for w in run.windows}
        for task_id in missing_tasks(run):
            window = windows.get(task_id)
            if window is not None:
                await self._retries.failed(run.source_id, task_id, window, run.run_id, NO_REPORT)
