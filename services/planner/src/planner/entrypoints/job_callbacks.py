"""``POST /job/{name}``: Dapr calls it when a job fires (probe jobs are only recorded)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from headwater.edge.probes import ProbeRecorder
from planner.entrypoints.deps import ContainerDep
from planner.service_layer.outcomes import TriggerOutcome

__all__ = ["job_router"]


async def _job_data(request: Request) -> dict[str, Any] | None:
    """The job's data when the body is a JSON object, else None (it may be empty)."""
    body = await request.body()
    try:
        data = await request.json() if body.strip() else None
    except ValueError:
        data = None
    return data if isinstance(data, dict) else None


def job_router(probes: ProbeRecorder) -> APIRouter:
    router = APIRouter(tags=["jobs"])

    @router.post("/job/{name}")
    async def job_callback(name: str, request: Request, container: ContainerDep) -> Any:
        """Dapr calls this when a job fires. The body (job data) may be empty."""
        if name.startswith("probe-"):
            probes.record(name, "job", (await request.body()).decode(errors="replace"))
            return {"status": "recorded"}
        result = await container.triggers.on_job(name, await _job_data(request))
        payload = {"outcome": result.outcome.value, "run_id": result.run_id, "work_items": result.work_items}
        if result.outcome is TriggerOutcome.FAILED:
            return JSONResponse(payload, status_code=500)  # Dapr retries per the job's failure policy
        return payload

    return router
