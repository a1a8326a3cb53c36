"""collection-model's FastAPI app: the ``work-items`` subscription and file uploads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from collection_model import bootstrap
from collection_model.entrypoints import uploads_api
from collection_model.entrypoints.work_items import work_item_handler
from collection_model.settings import Settings
from headwater.contracts.topics import WORK_ITEMS
from headwater.edge.logging import configure_logging
from headwater.edge.service import create_service_app
from headwater.edge.subscriptions import Subscriptions

__all__ = ["create_app"]

log = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("collection-model", settings.log_level, settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with bootstrap.connect(settings) as container:
            app.state.container = container
            app.state.tokens = container.tokens  # read by headwater.edge.auth.RequireToken
            log.info("collection-model started", port=settings.app_port)
            yield

    token = settings.app_api_token.get_secret_value() if settings.app_api_token else None
    app = create_service_app("collection-model", "0.1.0", lifespan, token)
    app.include_router(uploads_api.router)
    subs = Subscriptions()
    subs.add(WORK_ITEMS, work_item_handler(app))
    subs.mount(app)
    return app
