"""Applying, reading and deleting source configs (the planner's sources API)."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from headwater.config import SourceConfig, config_hash
from planner.domain.sources import ApplyStatus, StoredSource, decide_apply, job_fingerprint
from planner.service_layer.errors import ConcurrentUpdateError, NotFound
from planner.service_layer.jobs import JobRegistrationService
from planner.service_layer.ports import Clock, SourceRepository

__all__ = ["ApplyResult", "SourceService"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ApplyResult:
    status: ApplyStatus
    source: StoredSource


class SourceService:
    """Stores configs with a version and keeps their jobs in step."""

    def __init__(self, sources: SourceRepository, jobs: JobRegistrationService, clock: Clock) -> None:
        self._sources = sources
        self._jobs = jobs
        self._clock = clock

    async def apply(self, config: SourceConfig) -> ApplyResult:
        """Create or update a source (``ConcurrentUpdateError`` when another apply won the race)."""
        current = await self._sources.get(config.source_id)
        after = await self._sources.last_version(config.source_id) if current is None else 0
        status, stored = decide_apply(current, config, config_hash(config), self._clock.now(), after)
        if status is ApplyStatus.UNCHANGED:
            return ApplyResult(status, stored)
        if not await self._sources.save(stored):
            raise ConcurrentUpdateError(f"source {config.source_id!r} was changed concurrently; apply again")
        if status is ApplyStatus.CREATED:
            await self._jobs.on_created(stored)
        else:
            assert current is not None
            changed = job_fingerprint(current.config) != job_fingerprint(stored.config)
            await self._jobs.on_updated(stored, job_changed=changed)
        log.info("source applied", source_id=stored.source_id, status=status.value, version=stored.version)
        return ApplyResult(status, stored)

    async def get(self, source_id: str, version: int | None = None) -> StoredSource:
        """The current config, or the given ``version`` of it; ``NotFound`` when there is none."""
        if version:
            source = await self._sources.get_version(source_id, version)
            if source is None:
                raise NotFound(f"source {source_id!r} not found at version {version}")
            return source
        source = await self._sources.get(source_id)
        if source is None:
            raise NotFound(f"source {source_id!r} not found")
        return source

    async def list(self) -> list[StoredSource]:
        return sorted(await self._sources.list(), key=lambda s: s.source_id)

    async def delete(self, source_id: str) -> bool:
        """Delete the source and its job; ``NotFound`` when there was no such source. Returns
        False when the job's deletion is pending (the scheduler did not answer; swept later)."""
        existed = await self._sources.delete(source_id)
        job_deleted = await self._jobs.on_deleted(source_id)  # also cleans a job left by an earlier crash
        if not existed:
            raise NotFound(f"source {source_id!r} not found")
        log.info("source deleted", source_id=source_id, job_deleted=job_deleted)
        return job_deleted
