"""One Dapr Job per enabled scheduled source, kept in sync with ``source_configs``."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from headwater.config import to_dapr_schedule
from planner.domain.jobs import RegisteredJob, job_name_for
from planner.domain.sources import StoredSource
from planner.service_layer.ports import Clock, JobRegistry, JobScheduler, SourceRepository

__all__ = ["JobRegistrationService", "SyncReport"]

log = structlog.get_logger(__name__)


@dataclass
class SyncReport:
    registered: list[str]
    deleted: list[str]


class JobRegistrationService:
    """Registers, replaces and deletes the sources' jobs.

    Create → register. A change of schedule or request → delete, then register with the
    new settings. Disable or delete → delete. ``sync_all_jobs`` at start-up registers
    (with overwrite) every enabled scheduled source and deletes the jobs of sources that
    are gone or disabled, from what the ``jobs`` collection says was registered.
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

    async def unregister(self, source_id: str) -> str:
        name = job_name_for(source_id)
        await self._scheduler.delete(name)
        await self._registry.remove(source_id)
        log.info("job deleted", source_id=source_id, job=name)
        return name

    async def on_created(self, source: StoredSource) -> None:
        if source.enabled and source.scheduled:
            await self.register(source)

    async def on_updated(self, source: StoredSource, job_changed: bool) -> None:
        if not (source.enabled and source.scheduled):
            await self.unregister(source.source_id)
        elif job_changed or await self._registry.get(source.source_id) is None:
            await self.unregister(source.source_id)
            await self.register(source)

    async def on_deleted(self, source_id: str) -> None:
        await self.unregister(source_id)

    async def sync_all_jobs(self) -> SyncReport:
        wanted = {s.source_id: s for s in await self._sources.list() if s.enabled and s.scheduled}
        report = SyncReport(registered=[], deleted=[])
        for source in wanted.values():
            report.registered.append(await self.register(source))
        for job in await self._registry.list():
            if job.source_id not in wanted:
                report.deleted.append(await self.unregister(job.source_id))
        log.info("jobs synchronised", registered=len(report.registered), deleted=len(report.deleted))
        return report
