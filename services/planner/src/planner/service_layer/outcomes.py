"""What a trigger came to (``POST /job/{name}``, ``…/trigger`` and ``…/backfill`` answer with it)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["TriggerOutcome", "TriggerResult"]


class TriggerOutcome(StrEnum):
    PLANNED = "planned"
    FAILED = "failed"
    SKIPPED = "skipped"
    COALESCED = "coalesced"  # a catch-up or repeated firing of a tick already planned
    UNKNOWN_JOB = "unknown_job"
    UNREGISTERED_JOB = "unregistered_job"  # no live ``jobs`` entry: the planner did not register it
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
