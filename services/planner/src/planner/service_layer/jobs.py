"""One Dapr Job per enabled scheduled source, kept in sync with ``source_configs``."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import structlog

from headwater.config import to_dapr_schedule
from planner.domain.jobs import RegisteredJob, job_name_for
from planner.domain.sources import StoredSource
from planner.service_layer.errors import SchedulerUnavailable
from planner.service_layer.ports import Clock, JobRegistry, JobScheduler, SourceRepository

__all__ = ["JobRegistrationService", "SyncReport"]

log = structlog.get_logger(__name__)


@dataclass
class SyncReport:
    registered: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    """jobs whose deletion or registration waits for the scheduler"""


class JobRegistrationService:
    """Registers, replaces and deletes the sources' jobs.

    Create → register. A change of schedule or request → delete, then register with the
    new settings. Disable or delete → delete: the ``jobs`` entry is marked ``pending_delete``
    first, so a deletion the scheduler could not take (down, unreachable) stays recorded and
    ``sweep`` deletes it later; the source's delete still succeeds. ``sync_all_jobs`` at
    start-up registers (with overwrite) every enabled scheduled source; ``sweep`` (periodic)
    deletes the jobs of sources that are gone or disabled and registers wanted ones that have
    no job (a registration that failed). A trigger for a deleted source deletes its job too.
    """

    def __init__(self, scheduler: JobScheduler, registry: JobRegistry, sources: SourceRepository, clock: Clock) -> None:
        self._scheduler = scheduler
        self._registry = registry
        self._sources = sources
        self._clock = clock

    async def register(self, source: StoredSource) -> str:
        name = job_name_for(source.source_id)
        ingestion = source.config.ingestion
        schedule = to_dapr_schedule(ingestion.schedule or "", ingestion.timezone)
        data = {"source_id": source.source_id, "config_version": source.version}
        await self._scheduler.schedule(name, schedule, data)
        await self._registry.put(RegisteredJob(name, source.source_id, schedule, source.version, self._clock.now()))
        log.info(
            "job registered", source_id=source.source_id, job=name, schedule=schedule, config_version=source.version
        )
        return name

    async def unregister(self, source_id: str) -> bool:
        """Delete the source's job; False when the scheduler could not be reached (then the
        deletion stays recorded as pending and ``sweep`` retries it)."""
        name = job_name_for(source_id)
        job = await self._registry.get(source_id)
        if job is None or not job.pending_delete:
            now = self._clock.now()
            await self._registry.put(
                replace(job, pending_delete=True) if job else RegisteredJob(name, source_id, "", 0, now, True)
            )
        try:
            await self._scheduler.delete(name)
        except SchedulerUnavailable as exc:
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

    async def sync_all_jobs(self) -> SyncReport:
        """At start-up: register every wanted job (overwriting), delete the others."""
        wanted = await self._wanted()
        report = SyncReport()
        for source in wanted.values():
            report.registered.append(await self.register(source))
        await self._delete_unwanted(wanted, report)
        log.info("jobs synchronised", registered=len(report.registered), deleted=len(report.deleted))
        return report

    async def sweep(self) -> SyncReport:
        """Periodically: finish pending deletions, delete jobs of sources that are gone, and
        register wanted sources that have no job; each retried at the next sweep while the
        scheduler is unavailable."""
        wanted = await self._wanted()
        report = SyncReport()
        await self._delete_unwanted(wanted, report)
        jobs = {job.source_id: job for job in await self._registry.list()}
        for source_id, source in wanted.items():
            job = jobs.get(source_id)
            if job is not None and not job.pending_delete:
                continue
            try:
                report.registered.append(await self.register(source))
            except SchedulerUnavailable:
                report.pending.append(job_name_for(source_id))
        if report.registered or report.deleted:
            log.info("jobs swept", registered=report.registered, deleted=report.deleted, pending=report.pending)
        return report

    async def _wanted(self) -> dict[str, StoredSource]:
        return {s.source_id: s for s in await self._sources.list() if s.enabled and s.scheduled}

    async def _delete_unwanted(self, wanted: dict[str, StoredSource], report: SyncReport) -> None:
        for job in await self._registry.list():
            if job.source_id in wanted:
                continue
            if await self.unregister(job.source_id):
                report.deleted.append(job.name)
            else:
                report.pending.append(job.name)
