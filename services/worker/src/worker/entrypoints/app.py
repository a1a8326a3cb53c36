"""The worker's FastAPI app: raw-document subscription."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from headwater.edge.logging import configure_logging
from headwater.edge.probes import ProbeRecorder
from headwater.edge.service import create_service_app
from headwater.edge.subscriptions import Subscriptions
from worker.settings import Settings

log = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("worker", settings.log_level, settings.log_json)
    subs = Subscriptions()
    probes = ProbeRecorder()
    probes.subscribe(subs)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("worker started", port=settings.app_port)
        yield

    token = settings.app_api_token.get_secret_value() if settings.app_api_token else None
    app = create_service_app("worker", "0.1.0", lifespan, token)
    app.include_router(probes.router)
    subs.mount(app)
    return app
