"""SCD-2 decisions and the record ids that make storage repeat-safe.

Storage is insert-mostly with deterministic ids: the current record is
``<source>:<key>`` and each version ``<source>:<key>:v<n>``. Re-applying the same decision
after a crash or a redelivery inserts nothing new (the version id exists) and the pointer
move is conditional on the version it expects, so nothing is written twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

__all__ = ["Decision", "StoredVersion", "current_id", "decide", "version_id"]


@dataclass(frozen=True)
class StoredVersion:
    natural_key: str
    version: int
    content_hash: str
    valid_from: datetime
    valid_to: datetime | None = None
    is_current: bool = True


@dataclass(frozen=True)
class Decision:
    kind: Literal["insert_first", "unchanged", "new_version", "upsert_latest"]
    version: int


def decide(current: StoredVersion | None, incoming_hash: str, now: datetime, history: str = "scd2") -> Decision:
    """``unchanged`` when the content is the same; otherwise a first or next version."""
    if current is not None and current.content_hash == incoming_hash:
        return Decision("unchanged", current.version)
    if history == "none":
        return Decision("upsert_latest", 1 if current is None else current.version + 1)
    if current is None:
        return Decision("insert_first", 1)
    return Decision("new_version", current.version + 1)


def current_id(source_id: str, key: str) -> str:
    return f"{source_id}:{key}"


def version_id(source_id: str, key: str, version: int) -> str:
    return f"{source_id}:{key}:v{version}"
