"""What a job trigger, a manual trigger or a backfill does: check the source, then hand over to planning."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import structlog

from planner.domain.jobs import source_id_from_job_name
from planner.domain.sources import StoredSource
from planner.domain.ticks import coalesce_spacing, tick_key
from planner.service_layer.errors import Invalid, NotFound
from planner.service_layer.jobs import JobRegistrationService
from planner.service_layer.outcomes import TriggerOutcome, TriggerResult
from planner.service_layer.ports import Clock, JobRegistry, Planning, SourceRepository, StateRepository

__all__ = ["TriggerService"]

log = structlog.get_logger(__name__)


class TriggerService:
    """Job triggers that can no longer do anything useful are acknowledged and logged, never
    failed: a failure would only make Dapr retry them. A trigger for a deleted source deletes
    its job; only a job the planner registered (its live ``jobs`` entry) plans; the firings of
    a catch-up burst coalesce into one planning (``domain.ticks``).

    At most ``concurrency`` job triggers are handled at once; the others wait in arrival order.
    A burst of triggers due at the same moment is then worked off first come, first served: the
    first ones publish their work within milliseconds instead of every one sharing the planner
    with all the others until the whole burst is done."""

    def __init__(
        self,
        sources: SourceRepository,
        jobs: JobRegistry,
        planning: Planning,
        state: StateRepository,
        registration: JobRegistrationService,
        clock: Clock,
        concurrency: int = 8,
    ) -> None:
        self._sources = sources
        self._jobs = jobs
        self._planning = planning
        self._state = state
        self._registration = registration
        self._clock = clock
        self._slots = asyncio.Semaphore(concurrency)

    async def on_job(self, name: str, data: dict[str, Any] | None) -> TriggerResult:
        """A Dapr Job fired (``data`` is the job's data, when it carried a JSON object)."""
        async with self._slots:
            return await self._on_job(name, data)

    async def _on_job(self, name: str, data: dict[str, Any] | None) -> TriggerResult:
        source_id = source_id_from_job_name(name)
        if source_id is None:
            log.warning("trigger of an unknown job acknowledged", job=name)
            return TriggerResult(TriggerOutcome.UNKNOWN_JOB, detail=name)
        source = await self._sources.get(source_id)
        if source is None:
            deleted = await self._registration.unregister(source_id)
            log.warning("trigger for a deleted source: job deleted", source_id=source_id, job=name, deleted=deleted)
            return TriggerResult(TriggerOutcome.SOURCE_DELETED, source_id)
        if not source.enabled:
            log.info("trigger for a disabled source acknowledged", source_id=source_id)
            return TriggerResult(TriggerOutcome.SOURCE_DISABLED, source_id)
        refused = await self._unregistered(source_id, name, data)
        return refused if refused is not None else await self._scheduled(source)

    async def _unregistered(self, source_id: str, name: str, data: dict[str, Any] | None) -> TriggerResult | None:
        """Why a trigger of ``source_id``'s job plans nothing: the planner holds no live ``jobs``
        entry for it (never registered, or being deleted), the job data names another source,
        or an older config version than the registered one (a replaced job); None when it plans."""
        registered = await self._jobs.get(source_id)
        if registered is None or registered.pending_delete:
            log.warning("trigger of a job the planner did not register acknowledged", source_id=source_id, job=name)
            return TriggerResult(TriggerOutcome.UNREGISTERED_JOB, source_id, detail=name)
        if (data or {}).get("source_id", source_id) != source_id:
            log.warning("trigger whose job data names another source acknowledged", source_id=source_id, job=name)
            return TriggerResult(TriggerOutcome.UNREGISTERED_JOB, source_id, detail=name)
        sent_version = _config_version(data)
        if sent_version and sent_version < registered.config_version:
            log.info(
                "trigger of a replaced job acknowledged",
                source_id=source_id,
                job_version=sent_version,
                registered_version=registered.config_version,
            )
            return TriggerResult(TriggerOutcome.OUTDATED, source_id)
        return None

    async def _scheduled(self, source: StoredSource) -> TriggerResult:
        """Claim the tick, plan it, and give the tick back when planning failed (so Dapr's
        redelivery plans); a firing that cannot claim is coalesced."""
        now = self._clock.now()
        schedule = source.config.ingestion.schedule
        key = tick_key(schedule, now)
        if not await self._state.claim_tick(source.source_id, key, now, coalesce_spacing(schedule, now)):
            log.info("trigger coalesced into the last planned tick", source_id=source.source_id, tick=key)
            return TriggerResult(TriggerOutcome.COALESCED, source.source_id, detail=key)
        try:
            result = await self._planning.plan(source, manual=False, tick=key)
        except BaseException:
            await self._state.release_tick(source.source_id, key)
            raise
        if result.outcome is TriggerOutcome.FAILED:
            await self._state.release_tick(source.source_id, key)
        return result

    async def trigger(self, source_id: str) -> TriggerResult:
        """Plan now, outside the schedule; ``NotFound`` for an unknown source."""
        return await self._planning.plan(await self._source(source_id), manual=True)

    async def backfill(self, source_id: str, start: datetime, end: datetime) -> list[TriggerResult]:
        """Plan the windows of [start, end) again; ``NotFound``, or ``Invalid`` for a bad range."""
        source = await self._source(source_id)
        if end <= start:
            raise Invalid("backfill needs start < end")
        return await self._planning.backfill(source, start, end)

    async def _source(self, source_id: str) -> StoredSource:
        source = await self._sources.get(source_id)
        if source is None:
            raise NotFound(f"source {source_id!r} not found")
        return source


def _config_version(data: dict[str, Any] | None) -> int:
    """The config version the job data carries (0 when it carries none, or no number)."""
    try:
        return int((data or {}).get("config_version", 0) or 0)
    except (TypeError, ValueError):
        return 0
