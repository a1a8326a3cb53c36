"""The planner's ports: small protocols its service layer depends on.

Adapters implement them over MongoDB and the Dapr sidecar; tests use the in-memory
fakes in ``tests/unit/planner/fakes.py``, which behave like the real thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from headwater.contracts.messages import FetchTask
from planner.domain.sources import StoredSource

__all__ = ["Clock", "JobRegistry", "JobScheduler", "RegisteredJob", "SourceRepository", "WorkPublisher"]


class Clock(Protocol):
    def now(self) -> datetime: ...


class SourceRepository(Protocol):
    """``source_configs`` (current) and ``source_config_versions`` (every version, insert-only)."""

    async def get(self, source_id: str) -> StoredSource | None: ...

    async def get_version(self, source_id: str, version: int) -> StoredSource | None: ...

    async def list(self) -> list[StoredSource]: ...

    async def save(self, source: StoredSource) -> bool:
        """Store ``source`` if the stored version is ``source.version - 1`` (or absent for 1).
        Returns False when another writer got there first."""
        ...

    async def delete(self, source_id: str) -> bool: ...


@dataclass(frozen=True)
class RegisteredJob:
    """What the planner registered with the Dapr scheduler (Dapr has no HTTP list call)."""

    name: str
    source_id: str
    schedule: str
    config_version: int
    registered_at: datetime


class JobRegistry(Protocol):
    """The ``jobs`` collection."""

    async def get(self, source_id: str) -> RegisteredJob | None: ...

    async def list(self) -> list[RegisteredJob]: ...

    async def put(self, job: RegisteredJob) -> None: ...

    async def remove(self, source_id: str) -> None: ...


class JobScheduler(Protocol):
    """The Dapr Jobs API (owned by ``DaprJobsClient``)."""

    async def schedule(self, name: str, schedule: str, data: dict[str, Any]) -> None:
        """Register (overwriting) a repeating job."""
        ...

    async def delete(self, name: str) -> None: ...

    async def get(self, name: str) -> dict[str, Any] | None: ...


class WorkPublisher(Protocol):
    """Publishes work items on ``work-items``."""

    async def publish(self, task: FetchTask) -> None: ...
