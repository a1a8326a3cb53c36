"""In-memory fakes of the planner's ports: they behave like the real adapters.

``Fakes`` holds one of each; ``Fakes().adapters()`` is what tests pass to ``bootstrap.build``.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from headwater.contracts.messages import FetchTask, TaskResult, TaskStatus, TimeWindow
from planner.bootstrap import Adapters, Container, build
from planner.domain.cursor import StoredCursor, is_newer
from planner.domain.jobs import RegisteredJob
from planner.domain.progress import StoredReport
from planner.domain.retries import WindowRetry, WindowState
from planner.domain.runs import NO_REPORT, OPEN, Run, SourceState, missing_tasks, run_error
from planner.domain.sources import SourceSchedule, StoredSource
from planner.domain.ticks import TickClaim, may_claim_tick
from planner.domain.watermarks import RunStatus, run_status_from_results
from planner.service_layer.errors import SchedulerUnavailable
from planner.settings import Settings


class FixedClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


class FakeSourceRepository:
    """Like ``MongoSourceRepository``: versions are insert-only, the current one moves by one."""

    def __init__(self) -> None:
        self.current: dict[str, StoredSource] = {}
        self.versions: dict[tuple[str, int], StoredSource] = {}
        self.tombstones: dict[str, int] = {}  # deleted source -> its last version

    async def get(self, source_id: str) -> StoredSource | None:
        return self.current.get(source_id)

    async def get_version(self, source_id: str, version: int) -> StoredSource | None:
        return self.versions.get((source_id, version))

    async def get_many(self, source_ids: Sequence[str]) -> dict[str, StoredSource]:
        return {sid: self.current[sid] for sid in source_ids if sid in self.current}

    async def page(self, after: str | None, limit: int) -> list[StoredSource]:
        return [self.current[sid] for sid in sorted(self.current) if sid > (after or "")][:limit]

    async def schedules(self) -> list[SourceSchedule]:
        return [
            SourceSchedule(s.source_id, s.enabled, s.config.ingestion.mode, s.config.ingestion.schedule)
            for s in self.current.values()
        ]

    async def save_many(self, sources: Sequence[StoredSource]) -> list[bool]:
        return [await self.save(source) for source in sources]

    async def save(self, source: StoredSource) -> bool:
        stored = self.versions.setdefault((source.source_id, source.version), source)
        if stored.config_hash != source.config_hash:
            return False  # that version number is taken by another config
        current = self.current.get(source.source_id)
        base = current.version if current else self.tombstones.get(source.source_id, 0)
        if base == source.version - 1:
            self.current[source.source_id] = source
            self.tombstones.pop(source.source_id, None)
            return True
        return bool(current and current.version == source.version and current.config_hash == source.config_hash)

    async def delete(self, source_id: str) -> bool:
        gone = self.current.pop(source_id, None)
        if gone is not None:
            self.tombstones[source_id] = gone.version
        return gone is not None

    async def last_version(self, source_id: str) -> int:
        return self.tombstones.get(source_id, 0)

    async def last_versions(self, source_ids: Sequence[str]) -> dict[str, int]:
        return {sid: self.tombstones[sid] for sid in source_ids if sid in self.tombstones}


class FakeJobRegistry:
    def __init__(self) -> None:
        self.jobs: dict[str, RegisteredJob] = {}

    async def get(self, source_id: str) -> RegisteredJob | None:
        return self.jobs.get(source_id)

    async def list(self) -> list[RegisteredJob]:
        return list(self.jobs.values())

    async def put(self, job: RegisteredJob) -> None:
        self.jobs[job.source_id] = job

    async def put_many(self, jobs: Sequence[RegisteredJob]) -> None:
        for job in jobs:
            self.jobs[job.source_id] = job

    async def remove(self, source_id: str) -> None:
        self.jobs.pop(source_id, None)


class FakeScheduler:
    """The Dapr scheduler: jobs by name, and a log of every call in order; ``down = True``
    makes every call fail as ``DaprJobsClient`` does when the scheduler does not answer."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.down = False
        self.in_flight = 0
        self.most_in_flight = 0  # the most calls that were under way at once

    def _answer(self, what: str, name: str) -> None:
        self.calls.append((what, name))
        if self.down:
            raise SchedulerUnavailable(f"{what} job {name}: no answer within 8 s")

    async def schedule(self, name: str, schedule: str, data: dict[str, Any]) -> None:
        self._answer("schedule", name)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0)  # a real call yields to other tasks
        self.in_flight -= 1
        self.jobs[name] = {"schedule": schedule, "data": data}

    async def delete(self, name: str) -> None:
        self._answer("delete", name)
        self.jobs.pop(name, None)

    async def get(self, name: str) -> dict[str, Any] | None:
        return self.jobs.get(name)


class PublishFailed(Exception):
    pass


class FakePublisher:
    """Delivers to a list; ``fail_from=N`` makes every publish of a run's N-th (0-based) and later
    work items fail. Counted per run, not over the whole publisher, so concurrent runs fail the
    same way whatever order they interleave in."""

    def __init__(self, fail_from: int | None = None) -> None:
        self.published: list[FetchTask] = []
        self.fail_from = fail_from
        self.attempts: dict[str, int] = {}  # task id -> publish attempts

    async def publish(self, task: FetchTask) -> None:
        await asyncio.sleep(0)  # a real publish yields to other tasks
        self.attempts[task.task_id] = self.attempts.get(task.task_id, 0) + 1
        done_in_run = sum(1 for t in self.published if t.run_id == task.run_id)
        if self.fail_from is not None and done_in_run >= self.fail_from:
            raise PublishFailed("pubsub unavailable")
        self.published.append(task)


class FakeRuns:
    def __init__(self) -> None:
        self.runs: dict[str, Run] = {}

    async def insert(self, run: Run) -> None:
        assert run.run_id not in self.runs
        self.runs[run.run_id] = copy.deepcopy(run)

    async def update(self, run: Run) -> None:
        self.runs[run.run_id] = copy.deepcopy(run)

    async def get(self, run_id: str) -> Run | None:
        run = self.runs.get(run_id)
        return copy.deepcopy(run) if run else None

    async def record_task(
        self, run_id: str, task_id: str, status: str, now: datetime, error: str | None = None
    ) -> Run | None:
        run = self.runs.get(run_id)
        if run is None:
            return None
        if task_id not in run.task_status:
            run.task_status[task_id] = status
            if error:
                run.task_errors[task_id] = error
        if not (run.status in (RunStatus.FAILED, RunStatus.SKIPPED) and run.error):
            run.status = run_status_from_results(run.task_ids, run.task_status)
            run.error, run.updated_at = run_error(run), now
        return copy.deepcopy(run)

    async def list(self, source_id: str | None = None, limit: int = 50) -> list[Run]:
        runs = [r for r in self.runs.values() if source_id in (None, r.source_id)]
        return sorted(runs, key=lambda r: r.triggered_at, reverse=True)[:limit]

    async def overdue(self, now: datetime, limit: int) -> list[Run]:
        due = [r for r in self.runs.values() if r.status in OPEN and r.deadline_at and r.deadline_at <= now]
        return [copy.deepcopy(r) for r in sorted(due, key=lambda r: r.deadline_at or now)[:limit]]

    async def close_overdue(self, run: Run, error: str, now: datetime) -> bool:
        stored = self.runs.get(run.run_id)
        if stored is None or stored.status not in OPEN:
            return False
        for task_id in missing_tasks(run):
            stored.task_status.setdefault(task_id, TaskStatus.FAILED.value)
            stored.task_errors.setdefault(task_id, NO_REPORT)
        stored.status, stored.error, stored.updated_at = RunStatus.FAILED, error, now
        return True


@dataclass
class _Lease:
    owner: str
    expires_at: datetime


class FakeState:
    def __init__(self) -> None:
        self.state: dict[str, SourceState] = {}
        self.leases: dict[str, _Lease] = {}
        self.done: dict[str, tuple[str, TimeWindow]] = {}
        self.ticks: dict[str, TickClaim | None] = {}

    async def claim_tick(self, source_id: str, key: str, now: datetime, spacing: timedelta) -> bool:
        if not may_claim_tick(self.ticks.get(source_id), key, now, spacing):
            return False
        self.ticks[source_id] = TickClaim(key, now)
        return True

    async def release_tick(self, source_id: str, key: str) -> None:
        claim = self.ticks.get(source_id)
        if claim is not None and claim.key == key:
            self.ticks[source_id] = None

    async def last_tick(self, source_id: str) -> TickClaim | None:
        return self.ticks.get(source_id)

    async def get(self, source_id: str) -> SourceState:
        return copy.deepcopy(self.state.get(source_id, SourceState(source_id)))

    async def try_lease(self, source_id: str, owner: str, now: datetime, ttl: timedelta) -> bool:
        lease = self.leases.get(source_id)
        if lease and lease.owner != owner and lease.expires_at >= now:
            return False
        self.leases[source_id] = _Lease(owner, now + ttl)
        return True

    async def release_lease(self, source_id: str, owner: str) -> None:
        if source_id in self.leases and self.leases[source_id].owner == owner:
            del self.leases[source_id]

    async def set_planned_until(self, source_id: str, value: datetime, origin: datetime) -> None:
        st = self.state.setdefault(source_id, SourceState(source_id))
        st.planned_until = value
        if st.completed_until is None:
            st.completed_until = origin

    async def add_done_window(self, source_id: str, task_id: str, window: TimeWindow) -> None:
        self.done.setdefault(task_id, (source_id, window))

    async def done_windows_from(self, source_id: str, start: datetime) -> list[TimeWindow]:
        return sorted((w for s, w in self.done.values() if s == source_id and w.end > start), key=lambda w: w.start)

    async def advance_completed_until(self, source_id: str, value: datetime) -> bool:
        st = self.state.setdefault(source_id, SourceState(source_id))
        if st.completed_until is not None and st.completed_until >= value:
            return False
        if st.planned_until is None or st.planned_until < value:
            return False  # like MongoStateRepository: never past planned_until
        st.completed_until = value
        return True

    async def advance_cursor(self, source_id: str, cursor: StoredCursor) -> bool:
        st = self.state.setdefault(source_id, SourceState(source_id))
        if not is_newer(cursor, st.cursor):
            return False
        st.cursor = cursor
        return True


@dataclass
class _Progress:
    source_id: str
    run_id: str | None
    fetch_status: str | None = None
    documents_expected: int | None = None
    document_status: dict[str, str] = field(default_factory=dict)
    window: TimeWindow | None = None
    errors: list[str] = field(default_factory=list)
    cursors: list[str | int | float] = field(default_factory=list)


class FakeLedger:
    """Like ``MongoTaskLedger``: the reports of a task add up per run (a set: a repeat is a no-op)."""

    def __init__(self) -> None:
        self.tasks: dict[tuple[str, str | None], _Progress] = {}  # (task id, run id) -> progress
        self.seen: set[tuple[Any, ...]] = set()  # the reports, as MongoTaskLedger's set keeps them
        self.stored: dict[tuple[Any, ...], StoredReport] = {}  # with their counts, for run_reports

    async def record(self, result: TaskResult) -> _Progress:
        p = self.tasks.setdefault((result.task_id, result.run_id), _Progress(result.source_id, result.run_id))
        p.window = p.window or result.window
        documents = int(result.counts.get("documents", 0))
        key = result.document_key or ""
        report = (
            result.task_id,
            result.run_id,
            result.reporter,
            key,
            result.status,
            documents,
            result.error,
            result.cursor,
        )
        if report in self.seen:
            return copy.deepcopy(p)
        self.seen.add(report)
        self.stored[report] = StoredReport(
            result.task_id, result.reporter, result.status.value, datetime.now(UTC), key, dict(result.counts)
        )
        if result.error:
            p.errors.append(result.error)
        if result.reporter == "collection-model":
            if p.fetch_status != TaskStatus.FAILED:
                p.fetch_status = result.status.value
                p.documents_expected = int(result.counts.get("documents", 0))
        else:
            if p.document_status.get(key) != TaskStatus.FAILED:
                p.document_status[key] = result.status.value
            if result.cursor is not None:
                p.cursors.append(result.cursor)
        return copy.deepcopy(p)

    async def run_reports(self, run_id: str, task_ids: Sequence[str]) -> list[StoredReport]:
        return [r for (task, run, *_), r in self.stored.items() if run == run_id and task in task_ids]


class FakeRetries:
    """Like ``MongoRetryRepository``: insert at revision 1, else replace the revision before."""

    def __init__(self) -> None:
        self.windows: dict[str, WindowRetry] = {}
        self.lost_races = 0  # writes to refuse next, as if another writer got there first

    async def get(self, task_id: str) -> WindowRetry | None:
        return self.windows.get(task_id)

    async def save(self, retry: WindowRetry) -> bool:
        await asyncio.sleep(0)
        stored = self.windows.get(retry.task_id)
        if self.lost_races:
            self.lost_races -= 1
            return False
        if (stored.revision if stored else 0) != retry.revision - 1:
            return False
        self.windows[retry.task_id] = retry
        return True

    async def due(self, source_id: str, now: datetime, limit: int) -> list[WindowRetry]:
        due = [w for w in await self.list(source_id) if w.state is WindowState.FAILING]
        return [w for w in due if w.next_attempt_at is not None and w.next_attempt_at <= now][:limit]

    async def list(self, source_id: str) -> list[WindowRetry]:
        return sorted((w for w in self.windows.values() if w.source_id == source_id), key=lambda w: w.window.start)


class FakeMetrics:
    """Counts per name, and per (name, attribute=value) pair: ``counts["runs_skipped"]``,
    ``counts["runs_skipped", "reason=leased"]``. Owned by one container, never shared."""

    def __init__(self) -> None:
        self.counts: dict[Any, int] = {}
        self.observed: list[tuple[str, float, dict[str, str]]] = []

    def count(self, name: str, amount: int, **attributes: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + amount
        for key, value in attributes.items():
            pair = (name, f"{key}={value}")
            self.counts[pair] = self.counts.get(pair, 0) + amount

    def observe(self, name: str, seconds: float, **attributes: str) -> None:
        self.observed.append((name, seconds, attributes))


class FakeTokens:
    def __init__(self, token: str | None = "test-token") -> None:
        self.value = token

    async def token(self) -> str | None:
        return self.value


@dataclass
class Fakes:
    """One fake per port, under the names of ``bootstrap.Adapters``."""

    sources: FakeSourceRepository = field(default_factory=FakeSourceRepository)
    registry: FakeJobRegistry = field(default_factory=FakeJobRegistry)
    scheduler: FakeScheduler = field(default_factory=FakeScheduler)
    publisher: FakePublisher = field(default_factory=FakePublisher)
    runs: FakeRuns = field(default_factory=FakeRuns)
    state: FakeState = field(default_factory=FakeState)
    ledger: FakeLedger = field(default_factory=FakeLedger)
    retries: FakeRetries = field(default_factory=FakeRetries)
    clock: FixedClock = field(default_factory=FixedClock)
    metrics: FakeMetrics = field(default_factory=FakeMetrics)
    tokens: FakeTokens = field(default_factory=FakeTokens)

    def adapters(self) -> Adapters:
        return Adapters(**{name: getattr(self, name) for name in Adapters.__dataclass_fields__})


def settings(**overrides: Any) -> Settings:
    """Planner settings for tests: no waiting between publish retries."""
    values: dict[str, Any] = {"max_work_items_per_run": 100, "publish_retry_wait_max": 0.001, **overrides}
    return Settings(**values)


def build_planner(fakes: Fakes, **overrides: Any) -> Container:
    """The planner as ``bootstrap.build`` wires it, on ``fakes``."""
    return build(fakes.adapters(), settings(**overrides))
