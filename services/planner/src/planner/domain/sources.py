"""Stored source configs and the decisions taken when one is applied.

A config is stored with a version that grows by one on every real change and the hash of
its normalised form; applying an identical config changes nothing (no new version, no job
re-registration). Job-relevant fields decide whether the Dapr Job must be replaced. The
config is the typed ``SourceConfig`` everywhere in the planner; only the MongoDB adapter
sees its stored (normalised, JSON) form.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from headwater.config import SourceConfig, WindowSpec
from planner.domain.retries import RetryPolicy
from planner.domain.windows import WindowPolicy

__all__ = [
    "ApplyStatus",
    "SourceSchedule",
    "StoredSource",
    "decide_apply",
    "is_scheduled",
    "job_fingerprint",
    "window_policy",
]


def is_scheduled(mode: str, schedule: str | None) -> bool:
    """Whether a source of this ingestion mode and schedule is triggered by a Dapr Job."""
    return mode == "scheduled_pull" and bool(schedule)


class ApplyStatus(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class StoredSource:
    """One source config as the planner keeps it (``source_configs``)."""

    source_id: str
    config: SourceConfig
    version: int
    config_hash: str
    created_at: datetime
    updated_at: datetime

    @property
    def enabled(self) -> bool:
        return self.config.enabled

    @property
    def scheduled(self) -> bool:
        return is_scheduled(self.config.ingestion.mode, self.config.ingestion.schedule)

    @property
    def window_policy(self) -> WindowPolicy | None:
        """The source's ``ingestion.window`` as the domain's policy (None for unwindowed sources)."""
        return window_policy(self.config.ingestion.window)

    @property
    def retry_policy(self) -> RetryPolicy:
        """How often and how soon a failed window is planned again (defaults when unwindowed)."""
        spec = self.config.ingestion.window
        if spec is None:
            return RetryPolicy()
        return RetryPolicy(spec.max_attempts, spec.retry_backoff, spec.retry_backoff_max)


@dataclass(frozen=True)
class SourceSchedule:
    """What the job sweep needs of a stored source, read without validating its whole config."""

    source_id: str
    enabled: bool
    mode: str
    schedule: str | None

    @property
    def wants_job(self) -> bool:
        return self.enabled and is_scheduled(self.mode, self.schedule)


def window_policy(spec: WindowSpec | None) -> WindowPolicy | None:
    """The domain's view of a window section (already validated by the contract)."""
    if spec is None:
        return None
    return WindowPolicy(
        cadence=spec.cadence,
        start=spec.start,
        lookback=spec.lookback,
        slice=spec.slice,
        max_slices_per_run=spec.max_slices_per_run,
        timezone=spec.timezone,
    )


def job_fingerprint(config: SourceConfig) -> dict[str, Any]:
    """The parts of a config a change of which replaces the job (schedule or request)."""
    ingestion = config.ingestion
    return {
        "enabled": config.enabled,
        "mode": ingestion.mode,
        "schedule": ingestion.schedule,
        "timezone": ingestion.timezone,
        "request": ingestion.request.model_dump(mode="json", by_alias=True) if ingestion.request else None,
    }


def decide_apply(
    current: StoredSource | None, config: SourceConfig, config_hash: str, now: datetime, after_version: int = 0
) -> tuple[ApplyStatus, StoredSource]:
    """What applying ``config`` does to ``current``: create, update (version + 1) or nothing.

    A source created again after a delete continues the numbering of its versions
    (``after_version``: the deleted one's), since every version stays in the history."""
    if current is None:
        return ApplyStatus.CREATED, StoredSource(config.source_id, config, after_version + 1, config_hash, now, now)
    if current.config_hash == config_hash:
        return ApplyStatus.UNCHANGED, current
    return ApplyStatus.UPDATED, replace(
        current, config=config, version=current.version + 1, config_hash=config_hash, updated_at=now
    )
