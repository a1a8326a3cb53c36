"""Planning one trigger: due windows → one work item per window → run audit → watermarks.

Rules (DESIGN.md, "never advance the watermark on failure"):
- a per-source lease (atomic find-and-modify with expiry) makes concurrent or repeated
  triggers plan once; task ids are deterministic, so re-planning a window is harmless;
- failed windows whose backoff is over come first (same task id, ``attempt`` + 1), then new
  windows in the room left under the cap (``RetryService``, ``domain.retries``);
- ``planned_until`` advances only after every work item of the run was published;
- a publish failure (after retries) marks the run failed and leaves both watermarks alone;
  the failed windows it could not send are due again at once;
- with ``ingestion.incremental`` every work item carries the stored cursor, or the
  ``initial_value`` while none is stored (``domain.cursor.fetch_start``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog

from headwater.contracts.messages import FetchTask, TimeWindow, task_id_for
from planner.domain.cursor import FetchStart, fetch_start
from planner.domain.retries import WindowRetry
from planner.domain.runs import Run, run_deadline
from planner.domain.sources import StoredSource
from planner.domain.ticks import manual_key, tick_key
from planner.domain.watermarks import RunStatus
from planner.domain.windows import WindowPolicy, backfill_windows, plan_windows
from planner.service_layer.errors import Invalid
from planner.service_layer.outcomes import TriggerOutcome, TriggerResult
from planner.service_layer.ports import Clock, Metrics, RunRepository, StateRepository, WorkPublisher
from planner.service_layer.publishing import RetryingPublisher
from planner.service_layer.retries import RetryService

__all__ = ["PlanningService"]

log = structlog.get_logger(__name__)


class PlanningService:
    """Plans triggers and backfills of one source at a time (see the module docstring)."""

    def __init__(
        self,
        publisher: WorkPublisher,
        runs: RunRepository,
        state: StateRepository,
        clock: Clock,
        metrics: Metrics,
        retries: RetryService,
        *,
        owner: str,
        global_cap: int = 100,
        lease_ttl: timedelta = timedelta(minutes=2),
        publish_attempts: int = 4,
        publish_wait_max: float = 3.0,
        run_timeout: timedelta = timedelta(minutes=15),
    ) -> None:
        self._publisher = RetryingPublisher(publisher, publish_attempts, publish_wait_max)
        self._runs = runs
        self._state = state
        self._clock = clock
        self._metrics = metrics
        self._retries = retries
        self._owner = owner
        self._cap = global_cap
        self._lease_ttl = lease_ttl
        self._run_timeout = run_timeout

    async def plan(self, source: StoredSource, *, manual: bool, tick: str | None = None) -> TriggerResult:
        """Plan what is due; ``tick`` is the scheduled tick a job trigger claimed (the task id of
        an unwindowed source carries it)."""
        now = self._clock.now()
        owner = f"{self._owner}:{uuid.uuid4().hex[:12]}"  # one lease per planning, even within a replica
        if not await self._state.try_lease(source.source_id, owner, now, self._lease_ttl):
            self._metrics.count("runs_skipped", 1, source_id=source.source_id, reason="leased")
            log.info("trigger skipped: another planning of this source is under way", source_id=source.source_id)
            return TriggerResult(TriggerOutcome.SKIPPED, source.source_id, detail="already being planned")
        try:
            return await self._plan_locked(source, now, manual, tick)
        finally:
            await self._state.release_lease(source.source_id, owner)

    async def backfill(self, source: StoredSource, start: datetime, end: datetime) -> list[TriggerResult]:
        """Plan historical windows in [start, end) in runs that respect the cap (no watermark change).

        ``Invalid`` for an unwindowed source or times the grid cannot use (naive ones)."""
        policy = source.window_policy
        if policy is None:
            raise Invalid(f"source {source.source_id!r} has no window section; nothing to backfill")
        try:
            batches = backfill_windows(policy, start, end, min(policy.max_slices_per_run, self._cap))
        except ValueError as exc:
            raise Invalid(str(exc)) from exc
        return [await self._enqueue(source, list(batch), self._clock.now(), "backfill") for batch in batches]

    async def _plan_locked(self, source: StoredSource, now: datetime, manual: bool, tick: str | None) -> TriggerResult:
        policy = source.window_policy
        trigger = "manual" if manual else "schedule"
        if policy is None:
            key = manual_key(now) if manual else tick or tick_key(source.config.ingestion.schedule, now)
            return await self._enqueue(source, [None], now, trigger, trigger_key=key)
        run_id = uuid.uuid4().hex
        retries = await self._retries.claim_due(source, run_id, now, min(policy.max_slices_per_run, self._cap))
        try:
            return await self._plan_windows(source, policy, now, trigger, run_id, retries)
        except BaseException:
            await self._retries.not_sent(retries, run_id)  # claimed but not sent: due again at once
            raise

    async def _plan_windows(
        self,
        source: StoredSource,
        policy: WindowPolicy,
        now: datetime,
        trigger: str,
        run_id: str,
        retries: list[WindowRetry],
    ) -> TriggerResult:
        """The claimed failed windows first, then new windows in the room left under the cap."""
        state = await self._state.get(source.source_id)
        room = min(policy.max_slices_per_run, self._cap) - len(retries)
        plan = plan_windows(policy, state.planned_until, now, room) if room > 0 else None
        if not retries and (plan is None or not plan.windows):
            return await self._skip(source, now, trigger, plan.skipped_reason if plan else None)
        retried = {r.task_id for r in retries}
        fresh = [w for w in plan.windows if task_id_for(source.source_id, w) not in retried] if plan else []
        return await self._enqueue(
            source,
            [r.window for r in retries] + fresh,
            now,
            trigger,
            planned_until=plan.new_planned_until if plan and plan.windows else None,
            run_id=run_id,
            retries=retries,
        )

    async def _skip(self, source: StoredSource, now: datetime, trigger: str, reason: str | None) -> TriggerResult:
        self._metrics.count("runs_skipped", 1, source_id=source.source_id, reason=reason or "none")
        run = Run(
            uuid.uuid4().hex,
            source.source_id,
            trigger,
            now,
            RunStatus.SKIPPED,
            source.version,
            error=reason,
            updated_at=now,
        )
        await self._runs.insert(run)
        log.info("run skipped", source_id=source.source_id, reason=reason)
        return TriggerResult(TriggerOutcome.SKIPPED, source.source_id, run.run_id, detail=reason)

    async def _enqueue(
        self,
        source: StoredSource,
        windows: Sequence[TimeWindow | None],
        now: datetime,
        trigger: str,
        *,
        trigger_key: str | None = None,
        planned_until: datetime | None = None,
        run_id: str | None = None,
        retries: Sequence[WindowRetry] = (),
    ) -> TriggerResult:
        """Record the run, publish one work item per window (the ``retries`` with their attempt
        number), then move ``planned_until``."""
        run = Run(run_id or uuid.uuid4().hex, source.source_id, trigger, now, RunStatus.PLANNED, source.version)
        run.windows, run.updated_at = [w for w in windows if w is not None], now
        request = source.config.ingestion.request
        run.deadline_at = run_deadline(now, self._run_timeout, request.timeout_seconds if request else None)
        run.attempts = {r.task_id: r.attempt for r in retries}
        start = await self._fetch_start(source)
        tasks = [_task(source, run.run_id, w, trigger_key, run.attempts, start) for w in windows]
        run.task_ids = [t.task_id for t in tasks]
        await self._runs.insert(run)
        published, error = await self._publisher.publish_all(tasks)
        if error is not None:
            unsent = {t.task_id for t in tasks[published:]}
            await self._retries.not_sent([r for r in retries if r.task_id in unsent], run.run_id)
            return await self._fail(run, tasks, published, error)
        if planned_until is not None and run.windows:
            await self._state.set_planned_until(source.source_id, planned_until, _earliest(run.windows))
        counts = {"work_items": published} | ({"retried": len(retries)} if retries else {})
        run.status, run.counts, run.updated_at = RunStatus.ENQUEUED, counts, self._clock.now()
        await self._runs.update(run)
        self._metrics.count("work_items_enqueued", published, source_id=source.source_id)
        log.info(
            "run enqueued", source_id=run.source_id, run_id=run.run_id, work_items=published, windows=len(run.windows)
        )
        return TriggerResult(TriggerOutcome.PLANNED, run.source_id, run.run_id, published)

    async def _fetch_start(self, source: StoredSource) -> FetchStart | None:
        spec = source.config.ingestion.incremental
        if spec is None:
            return None
        return fetch_start(spec, (await self._state.get(source.source_id)).cursor)

    async def _fail(self, run: Run, tasks: list[FetchTask], published: int, error: Exception) -> TriggerResult:
        """Mark the run failed after ``tasks[published]`` could not be published; watermarks stay."""
        run.status, run.error = RunStatus.FAILED, f"{type(error).__name__}: {error}"
        run.counts, run.updated_at = {"work_items": published, "planned": len(tasks)}, self._clock.now()
        await self._runs.update(run)
        self._metrics.count("runs_failed", 1, source_id=run.source_id)
        failed = tasks[published]
        log.error(
            "run failed: work item not published; watermarks unchanged",
            source_id=run.source_id,
            run_id=run.run_id,
            task_id=failed.task_id,
            window=failed.window.model_dump(mode="json", by_alias=True) if failed.window else None,
            attempt=failed.attempt,
            error=run.error,
        )
        return TriggerResult(TriggerOutcome.FAILED, run.source_id, run.run_id, published, run.error)


def _task(
    source: StoredSource,
    run_id: str,
    window: TimeWindow | None,
    trigger_key: str | None,
    attempts: dict[str, int],
    start: FetchStart | None,
) -> FetchTask:
    task_id = task_id_for(source.source_id, window, trigger_key)
    return FetchTask(
        source_id=source.source_id,
        config_version=source.version,
        task_id=task_id,
        run_id=run_id,
        window=window,
        attempt=attempts.get(task_id, 1),
        cursor=start.value if start else None,
        cursor_stored=start.stored if start else False,
    )


def _earliest(windows: Sequence[TimeWindow]) -> datetime:
    return min(w.start for w in windows)
