"""The planner's FastAPI app: job callbacks, the sources/runs API, task-result subscription."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from headwater.contracts.messages import TaskResult
from headwater.contracts.topics import TASK_RESULTS
from headwater.edge.auth import ApiTokenProvider
from headwater.edge.logging import configure_logging
from headwater.edge.probes import ProbeRecorder
from headwater.edge.service import create_service_app, sidecar_and_database
from headwater.edge.sidecar import DaprError
from headwater.edge.subscriptions import CloudEvent, Outcome, Subscriptions
from headwater.telemetry import configure_metrics
from planner.adapters.dapr_jobs import DaprJobsClient
from planner.adapters.dapr_publisher import DaprWorkPublisher
from planner.adapters.mongo_planning import MongoRunRepository, MongoStateRepository, MongoTaskLedger
from planner.adapters.mongo_sources import MongoJobRegistry, MongoSourceRepository
from planner.bootstrap import Container, build
from planner.entrypoints import runs_api, sources_api
from planner.service_layer.triggers import TriggerOutcome
from planner.settings import Settings

log = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("planner", settings.log_level, settings.log_json)
    configure_metrics("planner")
    probes = ProbeRecorder()
    subs = Subscriptions()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with sidecar_and_database(settings) as (sidecar, db):
            container = build(
                sources=MongoSourceRepository(db),
                registry=MongoJobRegistry(db),
                scheduler=DaprJobsClient(sidecar),
                publisher=DaprWorkPublisher(sidecar),
                runs=MongoRunRepository(db),
                state=MongoStateRepository(db),
                owner=f"planner-{settings.app_port}",
                global_cap=settings.max_work_items_per_run,
            )
            container.results.attach_ledger(MongoTaskLedger(db))
            app.state.container = container
            api_token = settings.api_token.get_secret_value() if settings.api_token else None
            app.state.tokens = ApiTokenProvider(sidecar, api_token)
            try:
                await container.jobs.sync_all_jobs()
            except DaprError as exc:  # the scheduler may still be starting: the next start syncs again
                log.error("job sync at start-up failed", error=str(exc))
            log.info("planner started", port=settings.app_port)
            yield

    token = settings.app_api_token.get_secret_value() if settings.app_api_token else None
    app = create_service_app("planner", "0.1.0", lifespan, token)

    @app.post("/job/{name}", tags=["jobs"])
    async def job_callback(name: str, request: Request) -> Any:
        """Dapr calls this when a job fires. The body (job data) may be empty."""
        body = await request.body()
        if name.startswith("probe-"):
            probes.record(name, "job", body.decode(errors="replace"))
            return {"status": "recorded"}
        try:
            data = await request.json() if body.strip() else None
        except ValueError:
            data = None
        container: Container = request.app.state.container
        result = await container.triggers.on_job(name, data if isinstance(data, dict) else None)
        payload = {"outcome": result.outcome.value, "run_id": result.run_id, "work_items": result.work_items}
        if result.outcome is TriggerOutcome.FAILED:
            return JSONResponse(payload, status_code=500)  # Dapr retries per the job's failure policy
        return payload

    async def on_task_result(event: CloudEvent) -> Outcome:
        try:
            result = TaskResult.model_validate(event.get("data") or {})
        except ValueError:
            log.warning("malformed task result dead-lettered", event_id=event.get("id"))
            return Outcome.DROP
        await app.state.container.results.on_result(result)
        return Outcome.SUCCESS

    subs.add(TASK_RESULTS, on_task_result)
    app.include_router(sources_api.router)
    app.include_router(runs_api.router)
    app.include_router(probes.router)
    subs.mount(app)
    return app
