"""In-memory fakes of the planner's ports: they behave like the real adapters."""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from headwater.contracts.messages import FetchTask, TaskResult, TaskStatus, TimeWindow
from planner.domain.sources import StoredSource
from planner.domain.watermarks import RunStatus, run_status_from_results
from planner.service_layer.planning import Run, SourceState
from planner.service_layer.ports import RegisteredJob


class FixedClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


class FakeSourceRepository:
    def __init__(self) -> None:
        self.current: dict[str, StoredSource] = {}
        self.versions: dict[tuple[str, int], StoredSource] = {}

    async def get(self, source_id: str) -> StoredSource | None:
        return self.current.get(source_id)

    async def get_version(self, source_id: str, version: int) -> StoredSource | None:
        return self.versions.get((source_id, version))

    async def list(self) -> list[StoredSource]:
        return list(self.current.values())

    async def save(self, source: StoredSource) -> bool:
        existing = self.current.get(source.source_id)
        if (existing.version if existing else 0) != source.version - 1:
            return False
        self.versions[(source.source_id, source.version)] = source
        self.current[source.source_id] = source
        return True

    async def delete(self, source_id: str) -> bool:
        return self.current.pop(source_id, None) is not None


class FakeJobRegistry:
    def __init__(self) -> None:
        self.jobs: dict[str, RegisteredJob] = {}

    async def get(self, source_id: str) -> RegisteredJob | None:
        return self.jobs.get(source_id)

    async def list(self) -> list[RegisteredJob]:
        return list(self.jobs.values())

    async def put(self, job: RegisteredJob) -> None:
        self.jobs[job.source_id] = job

    async def remove(self, source_id: str) -> None:
        self.jobs.pop(source_id, None)


class FakeScheduler:
    """The Dapr scheduler: jobs by name, and a log of every call in order."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []

    async def schedule(self, name: str, schedule: str, data: dict[str, Any]) -> None:
        self.calls.append(("schedule", name))
        self.jobs[name] = {"schedule": schedule, "data": data}

    async def delete(self, name: str) -> None:
        self.calls.append(("delete", name))
        self.jobs.pop(name, None)

    async def get(self, name: str) -> dict[str, Any] | None:
        return self.jobs.get(name)


class PublishFailed(Exception):
    pass


class FakePublisher:
    """Delivers to a list; ``fail_from`` makes every publish from the N-th on fail."""

    def __init__(self, fail_from: int | None = None) -> None:
        self.published: list[FetchTask] = []
        self.fail_from = fail_from
        self.attempts = 0

    async def publish(self, task: FetchTask) -> None:
        await asyncio.sleep(0)  # a real publish yields to other tasks
        self.attempts += 1
        if self.fail_from is not None and len(self.published) >= self.fail_from:
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

    async def record_task(self, run_id: str, task_id: str, status: str, now: datetime) -> Run | None:
        run = self.runs.get(run_id)
        if run is None:
            return None
        run.task_status.setdefault(task_id, status)
        if not (run.status in (RunStatus.FAILED, RunStatus.SKIPPED) and run.error):
            run.status = run_status_from_results(run.task_ids, run.task_status)
        return copy.deepcopy(run)

    async def list(self, source_id: str | None = None, limit: int = 50) -> list[Run]:
        runs = [r for r in self.runs.values() if source_id in (None, r.source_id)]
        return sorted(runs, key=lambda r: r.triggered_at, reverse=True)[:limit]


@dataclass
class _Lease:
    owner: str
    expires_at: datetime


class FakeState:
    def __init__(self) -> None:
        self.state: dict[str, SourceState] = {}
        self.leases: dict[str, _Lease] = {}
        self.done: dict[str, tuple[str, TimeWindow]] = {}

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
        st.completed_until = value
        return True


@dataclass
class _Progress:
    source_id: str
    run_id: str | None
    fetch_status: str | None = None
    documents_expected: int | None = None
    document_status: dict[str, str] = field(default_factory=dict)
    window: TimeWindow | None = None


class FakeLedger:
    def __init__(self) -> None:
        self.tasks: dict[str, _Progress] = {}

    async def record(self, result: TaskResult) -> _Progress:
        p = self.tasks.setdefault(result.task_id, _Progress(result.source_id, result.run_id))
        p.run_id = p.run_id or result.run_id
        p.window = p.window or result.window
        if result.reporter == "collection-model":
            if p.fetch_status != TaskStatus.FAILED:
                p.fetch_status = result.status.value
                p.documents_expected = int(result.counts.get("documents", 0))
        elif p.document_status.get(result.document_key or "") != TaskStatus.FAILED:
            p.document_status[result.document_key or ""] = result.status.value
        return copy.deepcopy(p)
