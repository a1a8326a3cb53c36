"""One Dapr Job per enabled scheduled source, kept in sync with ``source_configs``."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

import structlog

from headwater.config import to_dapr_schedule
from planner.domain.jobs import RegisteredJob, job_name_for
from planner.domain.sources import StoredSource
from planner.service_layer.errors import SchedulerUnavailable
from planner.service_layer.ports import Clock, JobRegistry, JobScheduler, SourceRepository

__all__ = ["JobRegistrationService", "SyncReport"]

log = structlog.get_logger(__name__)
T = TypeVar("T")
# to_dapr_schedule checks a validated schedule again (croniter, about 0.1 ms a job); most
# sources share a few schedules
_dapr_schedule = functools.lru_cache(maxsize=4096)(to_dapr_schedule)


@dataclass
class SyncReport:
    registered: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    """jobs whose deletion or registration waits for the scheduler"""
    failed: dict[str, str] = field(default_factory=dict)
    """jobs the scheduler refused, with its answer"""


class JobRegistrationService:
    """Registers, replaces and deletes the sources' jobs.

    Create → register. A change of schedule or request → delete, then register with the
    new settings. Disable or delete → delete: the ``jobs`` entry is marked ``pending_delete``
    first, so a deletion the scheduler could not take (down, unreachable) stays recorded and
    ``sweep`` deletes it later; the source's delete still succeeds. ``sync_all_jobs`` at
    start-up registers (with overwrite) every enabled scheduled source; ``sweep`` (periodic)
    deletes the jobs of sources that are gone or disabled and registers wanted ones that have
    no job (a registration that failed). A trigger for a deleted source deletes its job too.

    The Jobs API takes one job per call, so many jobs (a batch apply, the start-up sync, the
    sweep) are registered ``concurrency`` calls at a time, and their ``jobs`` entries written
    ``chunk`` at a time in one write each; every scheduler call of the service shares those
    ``concurrency`` slots.
    """

    def __init__(
        self,
        scheduler: JobScheduler,
        registry: JobRegistry,
        sources: SourceRepository,
        clock: Clock,
        concurrency: int = 32,
        chunk: int = 500,
    ) -> None:
        self._scheduler = scheduler
        self._registry = registry
        self._sources = sources
        self._clock = clock
        self._slots = asyncio.Semaphore(concurrency)
        self._chunk = chunk

    async def register(self, source: StoredSource) -> str:
        job = await self._schedule(source)
        await self._registry.put(job)
        log.info(
            "job registered",
            source_id=job.source_id,
            job=job.name,
            schedule=job.schedule,
            config_version=job.config_version,
        )
        return job.name

    async def register_all(self, sources: Iterable[StoredSource], down: asyncio.Event | None = None) -> SyncReport:
        """Register (overwriting) the jobs of ``sources``; one the scheduler could not take is
        reported pending (``sweep`` registers it later), one it refused failed — neither stops the
        others. Once one call found the scheduler unavailable (``down`` is set; pass one event to
        several calls to share it), the calls not yet made are not tried (pending too): each would
        wait for its own timeout."""
        report, down = SyncReport(), down or asyncio.Event()
        for chunk in _chunks(list(sources), self._chunk):
            outcomes = await asyncio.gather(*(self._schedule(s, down) for s in chunk), return_exceptions=True)
            jobs = [job for job in outcomes if isinstance(job, RegisteredJob)]
            await self._registry.put_many(jobs)
            report.registered += [job.name for job in jobs]
            for source, outcome in zip(chunk, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    _note_failure(report, job_name_for(source.source_id), outcome)
        if report.registered:
            log.info("jobs registered", count=len(report.registered), first=report.registered[0])
        return report

    async def unregister(self, source_id: str, down: asyncio.Event | None = None) -> bool:
        """Delete the source's job; False when the scheduler could not be reached (then the
        deletion stays recorded as pending and ``sweep`` retries it) — or, with ``down`` set,
        was not tried because another call found it unavailable."""
        name = job_name_for(source_id)
        job = await self._registry.get(source_id)
        if job is None or not job.pending_delete:
            now = self._clock.now()
            await self._registry.put(
                replace(job, pending_delete=True) if job else RegisteredJob(name, source_id, "", 0, now, True)
            )
        try:
            async with self._slots:
                if down is not None and down.is_set():
                    raise SchedulerUnavailable(f"delete job {name}: not tried, the scheduler did not answer another")
                await self._scheduler.delete(name)
        except SchedulerUnavailable as exc:
            if down is not None:
                down.set()
            log.warning("job deletion pending: scheduler unavailable", source_id=source_id, job=name, error=str(exc))
            return False
        await self._registry.remove(source_id)
        log.info("job deleted", source_id=source_id, job=name)
        return True

    async def on_created(self, source: StoredSource) -> None:
        if source.enabled and source.scheduled:
            await self.register(source)

    async def on_updated(self, source: StoredSource, job_changed: bool) -> None:
        if not (source.enabled and source.scheduled):
            await self.unregister(source.source_id)
            return
        registered = await self._registry.get(source.source_id)
        if job_changed or registered is None or registered.pending_delete:
            await self.unregister(source.source_id)
            await self.register(source)

    async def on_deleted(self, source_id: str) -> bool:
        """Delete the job of a deleted source; False when its deletion is pending."""
        return await self.unregister(source_id)

    async def sync_all_jobs(self, page: int = 1000) -> SyncReport:
        """At start-up: register every wanted job (overwriting), delete the others. The sources
        are read a page at a time, so a large registry is never held in memory at once."""
        jobs = await self._registry.list()  # before the sources: see ``sweep``
        report, wanted, after, down = SyncReport(), set[str](), None, asyncio.Event()
        while batch := await self._sources.page(after, page):
            after = batch[-1].source_id
            want = [s for s in batch if s.enabled and s.scheduled]
            wanted.update(s.source_id for s in want)
            _merge(report, await self.register_all(want, down))
        await self._delete_unwanted(jobs, wanted, report, down)
        log.info("jobs synchronised", **_summary(report))
        return report

    async def sweep(self) -> SyncReport:
        """Periodically: finish pending deletions, delete jobs of sources that are gone, and
        register wanted sources that have no job; each retried at the next sweep while the
        scheduler is unavailable.

        The jobs are listed before the sources: a job is registered only after its source was
        stored, so every job listed has its source in the later listing unless it was deleted
        (listed the other way round, a source applied in between would look unwanted and lose
        its new job). Wanted-ness is read without validating configs (``schedules``)."""
        jobs = await self._registry.list()
        wanted = {s.source_id for s in await self._sources.schedules() if s.wants_job}
        report, down = SyncReport(), asyncio.Event()
        await self._delete_unwanted(jobs, wanted, report, down)
        registered = {job.source_id for job in jobs if not job.pending_delete}
        missing = sorted(wanted - registered)
        if missing:
            sources = (await self._sources.get_many(missing)).values()
            _merge(report, await self.register_all((s for s in sources if s.enabled and s.scheduled), down))
        if report.registered or report.deleted or report.failed:
            log.info("jobs swept", **_summary(report))
        return report

    async def _schedule(self, source: StoredSource, down: asyncio.Event | None = None) -> RegisteredJob:
        """Schedule the source's job (in one of the shared slots); the ``jobs`` entry to write.
        ``down`` is set by the first call that finds the scheduler unavailable; later ones skip."""
        name = job_name_for(source.source_id)
        ingestion = source.config.ingestion
        schedule = _dapr_schedule(ingestion.schedule or "", ingestion.timezone)
        data = {"source_id": source.source_id, "config_version": source.version}
        async with self._slots:
            if down is not None and down.is_set():
                raise SchedulerUnavailable(f"schedule job {name}: not tried, the scheduler did not answer another")
            try:
                await self._scheduler.schedule(name, schedule, data)
            except SchedulerUnavailable:
                if down is not None:
                    down.set()
                raise
        return RegisteredJob(name, source.source_id, schedule, source.version, self._clock.now())

    async def _delete_unwanted(
        self, jobs: Sequence[RegisteredJob], wanted: set[str], report: SyncReport, down: asyncio.Event
    ) -> None:
        unwanted = [job for job in jobs if job.source_id not in wanted]
        for chunk in _chunks(unwanted, self._chunk):
            calls = (self.unregister(job.source_id, down) for job in chunk)
            outcomes = await asyncio.gather(*calls, return_exceptions=True)
            for job, deleted in zip(chunk, outcomes, strict=True):
                if isinstance(deleted, BaseException):
                    _note_failure(report, job.name, deleted)
                else:
                    (report.deleted if deleted else report.pending).append(job.name)


def _chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    return (items[i : i + size] for i in range(0, len(items), size))


def _note_failure(report: SyncReport, name: str, error: BaseException) -> None:
    """A job call that failed: pending while the scheduler is unavailable, else failed (logged)."""
    if isinstance(error, SchedulerUnavailable):
        report.pending.append(name)
    elif isinstance(error, Exception):
        report.failed[name] = f"{type(error).__name__}: {error}"
        log.error("job call failed", job=name, error=report.failed[name])
    else:
        raise error  # cancellation and exits are not the job's outcome


def _merge(into: SyncReport, report: SyncReport) -> None:
    into.registered += report.registered
    into.deleted += report.deleted
    into.pending += report.pending
    into.failed |= report.failed


def _summary(report: SyncReport, names: int = 10) -> dict[str, object]:
    """A report for the log: how many jobs of each kind, and the first few names."""
    parts = {"registered": report.registered, "deleted": report.deleted, "pending": report.pending}
    parts["failed"] = [f"{name}: {error}" for name, error in report.failed.items()]
    found: dict[str, object] = {kind: len(jobs) for kind, jobs in parts.items()}
    return found | {f"{kind}_jobs": jobs[:names] for kind, jobs in parts.items() if jobs}
