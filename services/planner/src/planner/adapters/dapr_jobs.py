"""``DaprJobsClient``: the planner's Dapr Jobs calls (schedule, get, delete)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, Protocol, TypeVar

from headwater.edge.sidecar import DaprError
from planner.service_layer.errors import SchedulerUnavailable

__all__ = ["DaprJobsClient", "JobsApi"]

T = TypeVar("T")

# A failed trigger (planner down, MongoDB unreachable) is retried a few times, not forever:
# the next scheduled trigger plans whatever is still due.
FAILURE_POLICY = {"constant": {"interval": "5s", "maxRetries": 3}}
# The sidecar waits up to 30 s for an unreachable scheduler (WaitForReady) before it answers;
# the planner gives up sooner, so a delete while the scheduler is down is recorded as pending
# (and an HTTP caller gets its answer) in time.
CALL_TIMEOUT = 8.0


class JobsApi(Protocol):
    """The sidecar's Jobs API calls (``AiohttpSidecar``, or ``headwater.edge.sidecar.DaprSidecar``)."""

    async def schedule_job(self, name: str, job: dict[str, Any]) -> None: ...

    async def get_job(self, name: str) -> dict[str, Any] | None: ...

    async def delete_job(self, name: str) -> None: ...


class DaprJobsClient:
    """Owns the planner's jobs in the Dapr scheduler (jobs belong to the registering app id).

    An unanswered call (timeout, sidecar unreachable, a 5xx from the sidecar) raises
    ``SchedulerUnavailable``; a refused request (4xx) stays a ``DaprError``."""

    def __init__(self, sidecar: JobsApi, timeout: float = CALL_TIMEOUT) -> None:
        self._sidecar = sidecar
        self._timeout = timeout

    async def schedule(self, name: str, schedule: str, data: dict[str, Any]) -> None:
        job = {"schedule": schedule, "data": data, "overwrite": True, "failurePolicy": FAILURE_POLICY}
        await self._call(self._sidecar.schedule_job(name, job), f"schedule job {name}")

    async def delete(self, name: str) -> None:
        await self._call(self._sidecar.delete_job(name), f"delete job {name}")  # 204 for a missing job too

    async def get(self, name: str) -> dict[str, Any] | None:
        return await self._call(self._sidecar.get_job(name), f"get job {name}")

    async def _call(self, call: Awaitable[T], what: str) -> T:
        try:
            return await asyncio.wait_for(call, self._timeout)
        except TimeoutError as exc:
            raise SchedulerUnavailable(f"{what}: no answer within {self._timeout:g} s") from exc
        except DaprError as exc:
            if exc.status is None or exc.status >= 500:
                raise SchedulerUnavailable(str(exc)) from exc
            raise
