"""collection-model's FastAPI app: work-item subscription, uploads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from headwater.edge.logging import configure_logging
from headwater.edge.service import create_service_app
from headwater.edge.subscriptions import Subscriptions

from collection_model.settings import Settings

log = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("collection-model", settings.log_level, settings.log_json)
    subs = Subscriptions()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("collection-model started", port=settings.app_port)
        yield

    token = settings.app_api_token.get_secret_value() if settings.app_api_token else None
    app = create_service_app("collection-model", "0.1.0", lifespan, token)
    subs.mount(app)
    return app
