"""Dapr Job names of sources: ``source-<source_id>`` (source ids are slugs, so valid names)."""

from __future__ import annotations

__all__ = ["job_name_for", "source_id_from_job_name"]

PREFIX = "source-"


def job_name_for(source_id: str) -> str:
    return f"{PREFIX}{source_id}"


def source_id_from_job_name(name: str) -> str | None:
    return name[len(PREFIX) :] or None if name.startswith(PREFIX) else None
