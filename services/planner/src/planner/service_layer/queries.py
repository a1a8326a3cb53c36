"""Read side of the runs API: runs, and the status of one source (``headwater runs …``, ``sources status``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from headwater.config import IncrementalSpec
from planner.domain.cursor import FetchStart, StoredCursor, fetch_start
from planner.domain.jobs import RegisteredJob
from planner.domain.progress import RunProgress, run_progress
from planner.domain.retries import WindowRetry, WindowState
from planner.domain.runs import Run
from planner.domain.watermarks import RunStatus
from planner.service_layer.errors import NotFound
from planner.service_layer.ports import (
    Clock,
    JobRegistry,
    RetryRepository,
    RunRepository,
    SourceRepository,
    StateRepository,
    TaskLedger,
)

__all__ = ["LastError", "RunQueries", "SourceStatus"]

STATUS_RUNS = 10
STATUS_RECOVERED = 10
_FAILURES = (RunStatus.FAILED, RunStatus.PARTIAL)
_FAILING = (WindowState.FAILING, WindowState.RETRYING)


@dataclass(frozen=True)
class LastError:
    """The latest error of a source: when, in which run (and task, for a window), and what."""

    at: datetime
    error: str
    run_id: str | None
    task_id: str | None = None


@dataclass(frozen=True)
class SourceStatus:
    """Where a source stands: version, watermarks, lag behind now, its job, its latest runs, its
    tracked failed windows (failing, dead, recently recovered) and, for an incremental source,
    its config's ``incremental`` block and the stored cursor."""

    source_id: str
    version: int
    enabled: bool
    planned_until: datetime | None
    completed_until: datetime | None
    lag_seconds: float | None
    job: RegisteredJob | None
    last_runs: list[Run]
    windows: list[WindowRetry]
    max_attempts: int | None
    incremental: IncrementalSpec | None = None
    cursor: StoredCursor | None = None

    @property
    def next_start(self) -> FetchStart | None:
        """Where the next work item of an incremental source starts."""
        return fetch_start(self.incremental, self.cursor) if self.incremental else None

    @property
    def failures(self) -> list[Run]:
        return [run for run in self.last_runs if run.status in _FAILURES]

    @property
    def failing_windows(self) -> list[WindowRetry]:
        return [w for w in self.windows if w.state in _FAILING]

    @property
    def dead_windows(self) -> list[WindowRetry]:
        return [w for w in self.windows if w.state is WindowState.DEAD]

    @property
    def recovered_windows(self) -> list[WindowRetry]:
        """The latest recovered windows, most recent first."""
        recovered = [w for w in self.windows if w.state is WindowState.RECOVERED]
        return sorted(recovered, key=lambda w: w.updated_at, reverse=True)[:STATUS_RECOVERED]

    @property
    def last_error(self) -> LastError | None:
        """The most recent error of a run or of a window try."""
        runs = [r for r in self.last_runs if r.error and r.status in _FAILURES]  # a skipped run's error is its reason
        found = [LastError(r.updated_at or r.triggered_at, r.error or "", r.run_id) for r in runs]
        found += [
            LastError(w.last_failed_at, w.last_error, w.last_failed_run, w.task_id)
            for w in self.windows
            if w.last_error and w.last_failed_at
        ]
        return max(found, key=lambda e: e.at, default=None)


class RunQueries:
    """Answers the read-only questions of the runs API."""

    def __init__(
        self,
        runs: RunRepository,
        state: StateRepository,
        sources: SourceRepository,
        jobs: JobRegistry,
        retries: RetryRepository,
        clock: Clock,
        ledger: TaskLedger,
    ) -> None:
        self._runs = runs
        self._ledger = ledger
        self._retries = retries
        self._state = state
        self._sources = sources
        self._jobs = jobs
        self._clock = clock

    async def list_runs(self, source_id: str | None = None, limit: int = 50) -> list[Run]:
        """The latest runs first, of one source or of all."""
        return await self._runs.list(source_id, limit)

    async def get_run(self, run_id: str) -> Run:
        run = await self._runs.get(run_id)
        if run is None:
            raise NotFound(f"run {run_id!r} not found")
        return run

    async def run_progress(self, run_id: str) -> tuple[Run, RunProgress]:
        """The run and what its tasks' reports add up to so far (``runs watch``)."""
        run = await self.get_run(run_id)
        return run, run_progress(run, await self._ledger.run_reports(run_id, run.task_ids))

    async def source_status(self, source_id: str) -> SourceStatus:
        source = await self._sources.get(source_id)
        if source is None:
            raise NotFound(f"source {source_id!r} not found")
        state = await self._state.get(source_id)
        now = self._clock.now()
        return SourceStatus(
            source_id=source_id,
            version=source.version,
            enabled=source.enabled,
            planned_until=state.planned_until,
            completed_until=state.completed_until,
            lag_seconds=(now - state.completed_until).total_seconds() if state.completed_until else None,
            job=await self._jobs.get(source_id),
            last_runs=await self._runs.list(source_id, STATUS_RUNS),
            windows=await self._retries.list(source_id),
            max_attempts=source.retry_policy.max_attempts if source.window_policy else None,
            incremental=source.config.ingestion.incremental,
            cursor=state.cursor,
        )
