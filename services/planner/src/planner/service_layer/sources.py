"""Applying, reading and deleting source configs (the planner's sources API)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from headwater.config import SourceConfig, config_hash
from planner.domain.jobs import source_id_from_job_name
from planner.domain.sources import ApplyStatus, StoredSource, decide_apply, job_fingerprint
from planner.service_layer.errors import ConcurrentUpdateError, Invalid, NotFound, SchedulerUnavailable
from planner.service_layer.jobs import JobRegistrationService, SyncReport
from planner.service_layer.ports import Clock, SourceRepository

__all__ = ["ApplyResult", "BatchItem", "SourceService"]

MAX_PAGE = 1000

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ApplyResult:
    status: ApplyStatus
    source: StoredSource


@dataclass(frozen=True)
class BatchItem:
    """What applying one config of a batch did: its ``status`` and ``version`` once stored
    (None after a lost race), and ``reason``/``error`` when something went wrong — ``conflict``
    (not stored; apply again), or the stored source's job ``scheduler_unavailable`` (the sweep
    registers it later) or ``job_failed``."""

    source_id: str
    status: ApplyStatus | None
    version: int | None
    reason: str | None = None
    error: str | None = None


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

    async def apply_many(self, configs: Sequence[SourceConfig]) -> list[BatchItem]:
        """``apply`` of each config (distinct ids; ``Invalid`` otherwise) in a few round trips: the
        current sources in one read, the new ones stored in bulk, their jobs registered
        concurrently (``JobRegistrationService.register_all``). One config's lost race or job
        problem does not stop the others; each outcome is in its ``BatchItem``, in order."""
        ids = [config.source_id for config in configs]
        repeated = sorted(sid for sid, n in Counter(ids).items() if n > 1)
        if repeated:
            raise Invalid(f"source_id repeated in the batch: {', '.join(repeated)}")
        current = await self._sources.get_many(ids)
        after = await self._sources.last_versions([sid for sid in ids if sid not in current])
        now = self._clock.now()
        decided = [
            decide_apply(current.get(c.source_id), c, config_hash(c), now, after.get(c.source_id, 0)) for c in configs
        ]
        to_save = [stored for status, stored in decided if status is not ApplyStatus.UNCHANGED]
        saved = dict(zip([s.source_id for s in to_save], await self._sources.save_many(to_save), strict=True))
        stored_now = [(status, s) for status, s in decided if saved.get(s.source_id)]
        created = [s for status, s in stored_now if status is ApplyStatus.CREATED]
        updated = [s for status, s in stored_now if status is ApplyStatus.UPDATED]
        problems = _job_problems(await self._jobs.register_all(s for s in created if s.enabled and s.scheduled))
        problems |= await self._update_jobs(updated, current)
        items = [_item(status, stored, saved.get(stored.source_id, True), problems) for status, stored in decided]
        log.info("sources applied", **Counter(item.status.value if item.status else "conflict" for item in items))
        return items

    async def _update_jobs(
        self, updated: list[StoredSource], before: dict[str, StoredSource]
    ) -> dict[str, tuple[str, str]]:
        """``on_updated`` of each updated source, concurrently; their job problems by source id."""
        calls = [
            self._jobs.on_updated(
                s, job_changed=job_fingerprint(before[s.source_id].config) != job_fingerprint(s.config)
            )
            for s in updated
        ]
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        problems = {}
        for source, outcome in zip(updated, outcomes, strict=True):
            if isinstance(outcome, SchedulerUnavailable):
                problems[source.source_id] = ("scheduler_unavailable", str(outcome))
            elif isinstance(outcome, Exception):
                problems[source.source_id] = ("job_failed", f"{type(outcome).__name__}: {outcome}")
            elif isinstance(outcome, BaseException):
                raise outcome
        return problems

    async def page(self, after: str | None = None, limit: int = 100) -> list[StoredSource]:
        """Up to ``limit`` (1..1000; ``Invalid`` otherwise) sources after id ``after``, by id."""
        if not 1 <= limit <= MAX_PAGE:
            raise Invalid(f"limit must be between 1 and {MAX_PAGE}")
        return await self._sources.page(after, limit)

    async def delete(self, source_id: str) -> bool:
        """Delete the source and its job; ``NotFound`` when there was no such source. Returns
        False when the job's deletion is pending (the scheduler did not answer; swept later)."""
        existed = await self._sources.delete(source_id)
        job_deleted = await self._jobs.on_deleted(source_id)  # also cleans a job left by an earlier crash
        if not existed:
            raise NotFound(f"source {source_id!r} not found")
        log.info("source deleted", source_id=source_id, job_deleted=job_deleted)
        return job_deleted


def _job_problems(report: SyncReport) -> dict[str, tuple[str, str]]:
    """The sources whose job the scheduler did not take: ``(reason, error)`` by source id."""
    pending = "the scheduler is unavailable; the sweep registers the job later"
    problems = {name: ("scheduler_unavailable", pending) for name in report.pending}
    problems |= {name: ("job_failed", error) for name, error in report.failed.items()}
    return {source_id_from_job_name(name) or name: problem for name, problem in problems.items()}


def _item(status: ApplyStatus, stored: StoredSource, saved: bool, problems: dict[str, tuple[str, str]]) -> BatchItem:
    if not saved:
        message = f"source {stored.source_id!r} was changed concurrently; apply again"
        return BatchItem(stored.source_id, None, None, "conflict", message)
    reason, error = problems.get(stored.source_id, (None, None))
    return BatchItem(stored.source_id, status, stored.version, reason, error)
