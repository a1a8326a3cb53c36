"""Dapr Job names of sources: ``source-<source_id>``.

Source ids are slugs (``^[a-z0-9][a-z0-9_-]{0,62}$``), so the name never holds the
characters Dapr refuses in job names (``/ \\ # ?``) and the mapping is reversible. Jobs with
any other name (probes, other tools) are not sources' and map to ``None``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

__all__ = ["JOB_PREFIX", "RegisteredJob", "job_name_for", "source_id_from_job_name"]

JOB_PREFIX = "source-"
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


@dataclass(frozen=True)
class RegisteredJob:
    """What the planner registered with the Dapr scheduler (Dapr has no HTTP list call)."""

    name: str
    source_id: str
    schedule: str
    config_version: int
    registered_at: datetime
    pending_delete: bool = False
    """set before the job is deleted; stays set while the scheduler cannot be reached (the
    planner's sweep deletes it later)"""


def job_name_for(source_id: str) -> str:
    """The Dapr Job name of a source; ``ValueError`` when ``source_id`` is not a slug."""
    if not _SLUG.fullmatch(source_id):
        raise ValueError(f"source id {source_id!r} is not a slug (^[a-z0-9][a-z0-9_-]{{0,62}}$)")
    return f"{JOB_PREFIX}{source_id}"


def source_id_from_job_name(name: str) -> str | None:
    """The source id a job name belongs to, or ``None`` for a job that is not a source's."""
    if not name.startswith(JOB_PREFIX):
        return None
    source_id = name.removeprefix(JOB_PREFIX)
    return source_id if _SLUG.fullmatch(source_id) else None
