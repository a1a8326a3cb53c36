"""What a job trigger, a manual trigger or a backfill does: check the source, then hand over to planning."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from planner.domain.jobs import source_id_from_job_name
from planner.domain.sources import StoredSource
from planner.service_layer.errors import Invalid, NotFound
from planner.service_layer.outcomes import TriggerOutcome, TriggerResult
from planner.service_layer.ports import JobRegistry, Planning, SourceRepository

__all__ = ["TriggerService"]

log = structlog.get_logger(__name__)


class TriggerService:
    """Job triggers that can no longer do anything useful are acknowledged and logged, never
    failed: a failure would only make Dapr retry them."""

    def __init__(self, sources: SourceRepository, jobs: JobRegistry, planning: Planning) -> None:
        self._sources = sources
        self._jobs = jobs
        self._planning = planning

    async def on_job(self, name: str, data: dict[str, Any] | None) -> TriggerResult:
        """A Dapr Job fired (``data`` is the job's data, when it carried a JSON object)."""
        source_id = source_id_from_job_name(name)
        if source_id is None:
            log.warning("trigger of an unknown job acknowledged", job=name)
            return TriggerResult(TriggerOutcome.UNKNOWN_JOB, detail=name)
        source = await self._sources.get(source_id)
        if source is None:
            log.warning("trigger for a deleted source acknowledged", source_id=source_id, job=name)
            return TriggerResult(TriggerOutcome.SOURCE_DELETED, source_id)
        if not source.enabled:
            log.info("trigger for a disabled source acknowledged", source_id=source_id)
            return TriggerResult(TriggerOutcome.SOURCE_DISABLED, source_id)
        registered = await self._jobs.get(source_id)
        sent_version = int((data or {}).get("config_version", 0) or 0)
        if registered is not None and sent_version and sent_version < registered.config_version:
            log.info(
                "trigger of a replaced job acknowledged",
                source_id=source_id,
                job_version=sent_version,
                registered_version=registered.config_version,
            )
            return TriggerResult(TriggerOutcome.OUTDATED, source_id)
        return await self._planning.plan(source, manual=False)

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
