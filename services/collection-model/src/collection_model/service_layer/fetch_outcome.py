"""What a fetch is given (``FetchJob``) and what it comes to (``FetchOutcome``), for ``fetch``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from headwater.config import IterationSpec, RequestSpec, RetrySpec

__all__ = ["FetchJob", "FetchOutcome", "FetchUnit", "ItemFailure"]


@dataclass(frozen=True)
class FetchJob:
    """What to fetch for one task (from the work item and the source config version)."""

    source_id: str
    task_id: str
    request: RequestSpec
    retry: RetrySpec = field(default_factory=RetrySpec)
    iteration: IterationSpec | None = None
    window: tuple[datetime, datetime] | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    """query parameters added to every request built from the template (the incremental cursor)"""


@dataclass(frozen=True)
class ItemFailure:
    key: str
    error: str


@dataclass
class FetchOutcome:
    """``items`` units of work (1 without iteration), ``fetched`` of them completely, ``pages``
    documents emitted (also by units that failed on a later page)."""

    items: int = 0
    fetched: int = 0
    pages: int = 0
    failures: list[ItemFailure] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def documents(self) -> int:
        return self.pages

    @property
    def status(self) -> str:
        if not self.failures:
            return "succeeded"
        return "partial" if self.pages else "failed"

    def counts(self) -> dict[str, int]:
        """For ``TaskResult.counts``; the planner reads ``documents`` (results to expect from the worker)."""
        return {
            "items": self.items,
            "fetched": self.fetched,
            "failed": self.failed,
            "pages": self.pages,
            "documents": self.documents,
        }


@dataclass(frozen=True)
class FetchUnit:
    key: str  # "" for the single request, else "<foreach>=<item>"
    item: dict[str, Any]
    linkage: dict[str, Any]

    def document_key(self, page: int) -> str:
        return f"{self.key}/page-{page}" if self.key else f"page-{page}"
