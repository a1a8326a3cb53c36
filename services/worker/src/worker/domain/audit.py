"""The audit trail: one entry per step of a document (dedup or reprocess, parse, store), per
rollback and per document a reprocess request queued or could not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["AuditEntry", "AuditReprocess", "AuditRollback", "AuditStep"]


@dataclass(frozen=True)
class AuditStep:
    """A step of one delivery of a document and its outcome (``new``, ``duplicate``, ``done``,
    ``failed``). Keyed by document, step, outcome, task and document key: a redelivery of the
    same message adds nothing, a new task fetching the same bytes adds its own entry."""

    document_id: str
    source_id: str
    task_id: str
    document_key: str
    step: str
    outcome: str
    counts: dict[str, int]
    at: datetime
    error: str | None = None

    @property
    def key(self) -> str:
        return f"{self.document_id}:{self.step}:{self.outcome}:{self.task_id}:{self.document_key}"


@dataclass(frozen=True)
class AuditRollback:
    """A dataset version rolled back (once: keyed by the version)."""

    version_id: str
    source_id: str
    at: datetime
    restored: int
    removed: int
    conflicts: int
    step: str = "rollback"
    outcome: str = "done"

    @property
    def key(self) -> str:
        return f"{self.version_id}:rollback"

    @property
    def counts(self) -> dict[str, int]:
        return {"restored": self.restored, "removed": self.removed, "conflicts": self.conflicts}


@dataclass(frozen=True)
class AuditReprocess:
    """A stored document a reprocess request (``run_id``) queued, or could not (``expired``: its
    body is no longer kept; ``superseded``: its stream has a later document). Once per request."""

    document_id: str
    source_id: str
    task_id: str
    run_id: str
    outcome: str
    at: datetime
    config_version: int
    error: str | None = None
    step: str = "reprocess"

    @property
    def key(self) -> str:
        return f"{self.document_id}:reprocess:{self.run_id}"

    @property
    def counts(self) -> dict[str, int]:
        return {"config_version": self.config_version}


@dataclass(frozen=True)
class AuditEntry:
    """An entry as read back (either kind; what a kind does not have is None)."""

    at: datetime
    source_id: str | None
    document_id: str | None
    task_id: str | None
    step: str | None
    outcome: str | None
    counts: dict[str, int]
    error: str | None
