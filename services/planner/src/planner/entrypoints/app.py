"""The planner's FastAPI app: job callbacks, the sources API, task-result subscription."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI, Request

from headwater.edge.logging import configure_logging
from headwater.edge.probes import ProbeRecorder
from headwater.edge.service import create_service_app
from headwater.edge.subscriptions import Subscriptions
from planner.settings import Settings

log = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("planner", settings.log_level, settings.log_json)
    probes = ProbeRecorder()
    subs = Subscriptions()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("planner started", port=settings.app_port)
        yield

    token = settings.app_api_token.get_secret_value() if settings.app_api_token else None
    app = create_service_app("planner", "0.1.0", lifespan, token)

    @app.post("/job/{name}", tags=["jobs"])
    async def job_callback(name: str, request: Request) -> dict[str, Any]:
        body = await request.body()
        if name.startswith("probe-"):
            probes.record(name, "job", body.decode(errors="replace"))
            return {"status": "recorded"}
        log.info("job trigger for unknown job acknowledged", job=name)
        return {"status": "ignored"}

    app.include_router(probes.router)
    subs.mount(app)
    return app
