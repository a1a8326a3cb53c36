"""Stored source configs and the decisions taken when one is applied.

A config is stored with a version that grows by one on every real change and the hash of
its normalised form; applying an identical config changes nothing (no new version, no job
re-registration). Job-relevant fields decide whether the Dapr Job must be replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["ApplyStatus", "StoredSource", "decide_apply", "job_fingerprint"]


class ApplyStatus(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class StoredSource:
    """One source config as the planner keeps it (``source_configs``)."""

    source_id: str
    config: dict[str, Any]
    version: int
    config_hash: str
    created_at: datetime
    updated_at: datetime

    @property
    def enabled(self) -> bool:
        return bool(self.config.get("enabled", True))

    @property
    def scheduled(self) -> bool:
        ingestion = self.config.get("ingestion", {})
        return ingestion.get("mode") == "scheduled_pull" and bool(ingestion.get("schedule"))


def job_fingerprint(config: dict[str, Any]) -> dict[str, Any]:
    """The parts of a config a change of which replaces the job (schedule or request)."""
    ingestion = config.get("ingestion", {})
    return {
        "enabled": config.get("enabled", True),
        "mode": ingestion.get("mode"),
        "schedule": ingestion.get("schedule"),
        "timezone": ingestion.get("timezone"),
        "request": ingestion.get("request"),
    }


def decide_apply(
    current: StoredSource | None, config: dict[str, Any], config_hash: str, now: datetime
) -> tuple[ApplyStatus, StoredSource]:
    """What applying ``config`` does to ``current``: create, update (version + 1) or nothing."""
    if current is None:
        source_id = str(config["source_id"])
        return ApplyStatus.CREATED, StoredSource(source_id, config, 1, config_hash, now, now)
    if current.config_hash == config_hash:
        return ApplyStatus.UNCHANGED, current
    return ApplyStatus.UPDATED, replace(
        current, config=config, version=current.version + 1, config_hash=config_hash, updated_at=now
    )
