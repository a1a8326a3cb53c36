"""Planning one trigger: due windows → one work item per window → run audit → watermarks.

Rules (DESIGN.md, "never advance the watermark on failure"):
- a per-source lease (atomic find-and-modify with expiry) makes concurrent or repeated
  triggers plan once; task ids are deterministic, so re-planning a window is harmless;
- ``planned_until`` advances only after every work item of the run was published;
- a publish failure (after retries) marks the run failed and leaves both watermarks alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog
from croniter import croniter
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from headwater.config.schedule import go_duration_seconds
from headwater.contracts.messages import FetchTask, TimeWindow, task_id_for
from headwater.telemetry import counter
from planner.domain.sources import StoredSource
from planner.domain.watermarks import RunStatus
from planner.domain.windows import WindowPolicy, backfill_windows, plan_windows
from planner.service_layer.ports import Clock, WorkPublisher
from planner.service_layer.triggers import TriggerOutcome, TriggerResult

__all__ = [
    "PlanningService",
    "Run",
    "RunRepository",
    "SourceState",
    "StateRepository",
    "TransientError",
    "window_policy",
]

log = structlog.get_logger(__name__)
enqueued_counter = counter("headwater.planner.work_items_enqueued", "work items published")
skipped_counter = counter("headwater.planner.runs_skipped", "runs skipped (up to date / leased)")
failed_counter = counter("headwater.planner.runs_failed", "runs that failed to plan")


class TransientError(Exception):
    """A database or sidecar error worth retrying (adapters wrap theirs in it)."""


@dataclass
class SourceState:
    source_id: str
    planned_until: datetime | None = None
    completed_until: datetime | None = None


@dataclass
class Run:
    run_id: str
    source_id: str
    trigger: str
    triggered_at: datetime
    status: RunStatus
    config_version: int
    windows: list[TimeWindow] = field(default_factory=list)
    task_ids: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    updated_at: datetime | None = None
    task_status: dict[str, str] = field(default_factory=dict)


class StateRepository(Protocol):
    """``source_state``: watermarks and the planning lease of each source."""

    async def get(self, source_id: str) -> SourceState: ...

    async def try_lease(self, source_id: str, owner: str, now: datetime, ttl: timedelta) -> bool: ...

    async def release_lease(self, source_id: str, owner: str) -> None: ...

    async def set_planned_until(self, source_id: str, value: datetime, origin: datetime) -> None:
        """Set ``planned_until``; the first time also start ``completed_until`` at ``origin``."""
        ...

    async def add_done_window(self, source_id: str, task_id: str, window: TimeWindow) -> None:
        """Remember a completed window (insert-only, keyed by task id: safe to repeat)."""
        ...

    async def done_windows_from(self, source_id: str, start: datetime) -> list[TimeWindow]: ...

    async def advance_completed_until(self, source_id: str, value: datetime) -> bool:
        """Move ``completed_until`` forward to ``value``; never backwards (atomic, conditional)."""
        ...


class RunRepository(Protocol):
    """``runs``: the audit of every trigger."""

    async def insert(self, run: Run) -> None: ...

    async def update(self, run: Run) -> None: ...

    async def get(self, run_id: str) -> Run | None: ...

    async def record_task(self, run_id: str, task_id: str, status: str, now: datetime) -> Run | None:
        """Record a task's final status once and update the run's status atomically."""
        ...

    async def list(self, source_id: str | None = None, limit: int = 50) -> list[Run]: ...


def window_policy(config: dict[str, Any]) -> WindowPolicy | None:
    """The config's ``ingestion.window`` as the domain's policy (None for unwindowed sources)."""
    window = config.get("ingestion", {}).get("window")
    if not window:
        return None
    from headwater.config.models import WindowSpec  # the contract parses durations and times

    spec = WindowSpec.model_validate(window)
    return WindowPolicy(
        cadence=spec.cadence,
        start=spec.start,
        lookback=spec.lookback,
        slice=spec.slice,
        max_slices_per_run=spec.max_slices_per_run,
        timezone=spec.timezone,
    )


class PlanningService:
    def __init__(
        self,
        publisher: WorkPublisher,
        runs: RunRepository,
        state: StateRepository,
        clock: Clock,
        *,
        owner: str,
        global_cap: int = 100,
        lease_ttl: timedelta = timedelta(minutes=2),
        publish_attempts: int = 4,
        publish_wait_max: float = 3.0,
    ) -> None:
        self._publisher = publisher
        self.runs = runs
        self.state = state
        self._clock = clock
        self._owner = owner
        self._cap = global_cap
        self._lease_ttl = lease_ttl
        self._attempts = publish_attempts
        self._wait_max = publish_wait_max

    async def plan(self, source: StoredSource, *, manual: bool) -> TriggerResult:
        now = self._clock.now()
        owner = f"{self._owner}:{uuid.uuid4().hex[:12]}"  # one lease per planning, even within a replica
        if not await self.state.try_lease(source.source_id, owner, now, self._lease_ttl):
            skipped_counter.add(1, {"source_id": source.source_id, "reason": "leased"})
            log.info("trigger skipped: another planning of this source is under way", source_id=source.source_id)
            return TriggerResult(TriggerOutcome.SKIPPED, source.source_id, detail="already being planned")
        try:
            return await self._plan_locked(source, now, manual)
        finally:
            await self.state.release_lease(source.source_id, owner)

    async def _plan_locked(self, source: StoredSource, now: datetime, manual: bool) -> TriggerResult:
        policy = window_policy(source.config)
        trigger = "manual" if manual else "schedule"
        if policy is None:
            key = f"manual-{now.strftime('%Y%m%dT%H%M%S.%fZ')}" if manual else self._tick_key(source, now)
            return await self._enqueue(source, [None], now, trigger, trigger_key=key)
        state = await self.state.get(source.source_id)
        plan = plan_windows(policy, state.planned_until, now, self._cap)
        if not plan.windows:
            skipped_counter.add(1, {"source_id": source.source_id, "reason": plan.skipped_reason or "none"})
            run = Run(
                uuid.uuid4().hex,
                source.source_id,
                trigger,
                now,
                RunStatus.SKIPPED,
                source.version,
                error=plan.skipped_reason,
                updated_at=now,
            )
            await self.runs.insert(run)
            log.info("run skipped", source_id=source.source_id, reason=plan.skipped_reason)
            return TriggerResult(TriggerOutcome.SKIPPED, source.source_id, run.run_id, detail=plan.skipped_reason)
        return await self._enqueue(source, list(plan.windows), now, trigger, planned_until=plan.new_planned_until)

    async def backfill(self, source: StoredSource, start: datetime, end: datetime) -> list[TriggerResult]:
        """Plan historical windows in [start, end) in runs that respect the cap (no watermark change)."""
        policy = window_policy(source.config)
        if policy is None:
            raise ValueError(f"source {source.source_id!r} has no window section; nothing to backfill")
        cap = min(policy.max_slices_per_run, self._cap)
        results = []
        for batch in backfill_windows(policy, start, end, cap):
            results.append(await self._enqueue(source, list(batch), self._clock.now(), "backfill"))
        return results

    def _tick_key(self, source: StoredSource, now: datetime) -> str:
        """The scheduled tick this trigger belongs to: a redelivered trigger maps to the same task."""
        schedule = source.config["ingestion"].get("schedule") or ""
        if schedule.startswith("@every"):
            step = int(go_duration_seconds(schedule.removeprefix("@every").strip()) or 1) or 1
            tick_ts = int(now.timestamp()) // step * step
            return f"tick-{datetime.fromtimestamp(tick_ts, now.tzinfo).strftime('%Y%m%dT%H%M%S')}"
        expr = {
            "@hourly": "0 * * * *",
            "@daily": "0 0 * * *",
            "@weekly": "0 0 * * 0",
            "@monthly": "0 0 1 * *",
            "@yearly": "0 0 1 1 *",
        }.get(schedule, schedule)
        try:
            tick = croniter(expr, now + timedelta(seconds=1)).get_prev(datetime)
        except (ValueError, KeyError):
            tick = now
        return f"tick-{tick.strftime('%Y%m%dT%H%M%S')}"

    async def _enqueue(
        self,
        source: StoredSource,
        windows: Sequence[TimeWindow | None],
        now: datetime,
        trigger: str,
        *,
        trigger_key: str | None = None,
        planned_until: datetime | None = None,
    ) -> TriggerResult:
        run = Run(
            uuid.uuid4().hex,
            source.source_id,
            trigger,
            now,
            RunStatus.PLANNED,
            source.version,
            windows=[w for w in windows if w is not None],
            updated_at=now,
        )
        tasks = [
            FetchTask(
                source_id=source.source_id,
                config_version=source.version,
                task_id=task_id_for(source.source_id, w, trigger_key),
                run_id=run.run_id,
                window=w,
            )
            for w in windows
        ]
        run.task_ids = [t.task_id for t in tasks]
        await self.runs.insert(run)
        published = 0
        try:
            for task in tasks:
                async for attempt in AsyncRetrying(
                    stop=stop_after_attempt(self._attempts),
                    wait=wait_exponential_jitter(initial=min(0.2, self._wait_max), max=self._wait_max),
                    retry=retry_if_exception_type(Exception),
                    reraise=True,
                ):
                    with attempt:
                        await self._publisher.publish(task)
                published += 1
        except Exception as exc:
            run.status, run.error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
            run.counts, run.updated_at = {"work_items": published, "planned": len(tasks)}, self._clock.now()
            await self.runs.update(run)
            failed_counter.add(1, {"source_id": source.source_id})
            failed_task = tasks[published]
            log.error(
                "run failed: work item not published; watermarks unchanged",
                source_id=source.source_id,
                run_id=run.run_id,
                task_id=failed_task.task_id,
                window=failed_task.window.model_dump(mode="json", by_alias=True) if failed_task.window else None,
                attempt=failed_task.attempt,
                error=run.error,
            )
            return TriggerResult(TriggerOutcome.FAILED, source.source_id, run.run_id, published, run.error)
        if planned_until is not None and run.windows:
            await self.state.set_planned_until(source.source_id, planned_until, run.windows[0].start)
        run.status, run.counts, run.updated_at = RunStatus.ENQUEUED, {"work_items": published}, self._clock.now()
        await self.runs.update(run)
        enqueued_counter.add(published, {"source_id": source.source_id})
        log.info(
            "run enqueued",
            source_id=source.source_id,
            run_id=run.run_id,
            work_items=published,
            windows=len(run.windows),
        )
        return TriggerResult(TriggerOutcome.PLANNED, source.source_id, run.run_id, published)
