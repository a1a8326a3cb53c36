"""What a job trigger (or a manual trigger) does: check the source, then hand over to planning."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import structlog

from planner.domain.jobs import source_id_from_job_name
from planner.domain.sources import StoredSource
from planner.service_layer.ports import JobRegistry, SourceRepository

__all__ = ["Planning", "TriggerOutcome", "TriggerResult", "TriggerService"]

log = structlog.get_logger(__name__)


class TriggerOutcome(StrEnum):
    PLANNED = "planned"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNKNOWN_JOB = "unknown_job"
    SOURCE_DELETED = "source_deleted"
    SOURCE_DISABLED = "source_disabled"
    OUTDATED = "outdated"


@dataclass(frozen=True)
class TriggerResult:
    outcome: TriggerOutcome
    source_id: str | None = None
    run_id: str | None = None
    work_items: int = 0
    detail: str | None = None


class Planning(Protocol):
    """Plans the work of one trigger (windows, work items, run audit)."""

    async def plan(self, source: StoredSource, *, manual: bool) -> TriggerResult: ...


class TriggerService:
    """Job triggers that can no longer do anything useful are acknowledged and logged, never
    failed: a failure would only make Dapr retry them."""

    def __init__(self, sources: SourceRepository, jobs: JobRegistry, planning: Planning) -> None:
        self._sources = sources
        self._jobs = jobs
        self._planning = planning

    async def on_job(self, name: str, data: dict[str, Any] | None) -> TriggerResult:
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
        source = await self._sources.get(source_id)
        if source is None:
            return TriggerResult(TriggerOutcome.SOURCE_DELETED, source_id)
        return await self._planning.plan(source, manual=True)
