"""``DaprJobsClient``: the planner's Dapr Jobs calls (schedule, get, delete)."""

from __future__ import annotations

from typing import Any

from headwater.edge.sidecar import DaprSidecar

__all__ = ["DaprJobsClient"]

# A failed trigger (planner down, MongoDB unreachable) is retried a few times, not forever:
# the next scheduled trigger plans whatever is still due.
FAILURE_POLICY = {"constant": {"interval": "5s", "maxRetries": 3}}


class DaprJobsClient:
    """Owns the planner's jobs in the Dapr scheduler (jobs belong to the registering app id)."""

    def __init__(self, sidecar: DaprSidecar) -> None:
        self._sidecar = sidecar

    async def schedule(self, name: str, schedule: str, data: dict[str, Any]) -> None:
        await self._sidecar.schedule_job(
            name, {"schedule": schedule, "data": data, "overwrite": True, "failurePolicy": FAILURE_POLICY}
        )

    async def delete(self, name: str) -> None:
        await self._sidecar.delete_job(name)  # Dapr answers 204 for a missing job too

    async def get(self, name: str) -> dict[str, Any] | None:
        return await self._sidecar.get_job(name)
