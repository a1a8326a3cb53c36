"""The planner's FastAPI app: job callbacks, the sources/runs API, task-result subscription."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from headwater.contracts.messages import TaskResult
from headwater.contracts.topics import TASK_RESULTS
from headwater.edge.logging import configure_logging
from headwater.edge.probes import ProbeRecorder
from headwater.edge.service import create_service_app
from headwater.edge.sidecar import DaprError
from headwater.edge.subscriptions import CloudEvent, Outcome, Subscriptions
from planner import bootstrap
from planner.bootstrap import Container
from planner.entrypoints import runs_api, sources_api
from planner.entrypoints.background import record_holding, sweeping
from planner.entrypoints.deps import install_error_handlers
from planner.entrypoints.job_callbacks import job_router
from planner.service_layer.errors import Unavailable
from planner.settings import Settings

__all__ = ["create_app"]

log = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("planner", settings.log_level, settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with bootstrap.connect(settings) as container:
            app.state.container = container
            app.state.tokens = container.tokens
            await _sync_jobs(container)
            _freeze_startup_heap()
            async with sweeping(container, settings.sweep_interval):
                log.info("planner started", port=settings.app_port)
                yield

    token = settings.app_api_token.get_secret_value() if settings.app_api_token else None
    app = create_service_app("planner", "0.1.0", lifespan, token)
    install_error_handlers(app)
    probes = ProbeRecorder()
    subs = Subscriptions()
    subs.add(TASK_RESULTS, _task_result_handler(app, settings.store_hold))
    app.include_router(job_router(probes))
    app.include_router(sources_api.router)
    app.include_router(runs_api.router)
    app.include_router(probes.router)
    subs.mount(app)
    return app


def _freeze_startup_heap() -> None:
    """Keep what start-up built (modules, the app, clients) out of every later garbage collection.

    A full collection walks every live object; with what FastAPI, pydantic, pymongo and
    OpenTelemetry hold that took 80-160 ms each time (the sweep's reads trigger one every 30 s),
    long enough for the sidecar's 500 ms health probe to fail while a burst of triggers queues
    behind it; frozen, those objects are skipped."""
    gc.collect()
    gc.freeze()


async def _sync_jobs(container: Container) -> None:
    try:
        await container.jobs.sync_all_jobs()
    except (DaprError, Unavailable) as exc:  # the scheduler may still be starting: the sweep catches up
        log.error("job sync at start-up failed", error=str(exc))


def _task_result_handler(app: FastAPI, hold: float) -> Callable[[CloudEvent], Awaitable[Outcome]]:
    async def on_task_result(event: CloudEvent) -> Outcome:
        """A report of collection-model or the worker: malformed → dead letter, else record it."""
        try:
            result = TaskResult.model_validate(event.get("data") or {})
        except ValueError:
            log.warning("malformed task result dead-lettered", event_id=event.get("id"))
            return Outcome.DROP
        container: Container = app.state.container
        return await record_holding(container, result, hold)

    return on_task_result
