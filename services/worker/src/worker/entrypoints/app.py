"""The worker's FastAPI app: ``raw-documents`` (+ its dead letters), datasets, dead-letter API."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from headwater.edge.logging import configure_logging
from headwater.edge.probes import ProbeRecorder
from headwater.edge.service import create_service_app
from headwater.edge.subscriptions import Subscriptions
from worker import bootstrap
from worker.entrypoints import datasets_api, dead_letters_api, records_api, reports_api, reprocess_api
from worker.entrypoints.subscriptions import subscribe
from worker.settings import Settings

__all__ = ["create_app"]

log = structlog.get_logger(__name__)


GAUGES_EVERY_S = 15.0


async def _drain_outbox(container: bootstrap.Container, every_s: float) -> None:
    """Publish what the outbox keeps (events and results whose publish failed), every ``every_s``;
    refresh the gauges read from the store (dead letters) every ``GAUGES_EVERY_S``."""
    loop = asyncio.get_running_loop()
    refreshed = float("-inf")
    while True:
        if loop.time() - refreshed >= GAUGES_EVERY_S:
            refreshed = loop.time()
            for gauge in container.gauges:
                try:
                    await gauge.refresh()
                except Exception as exc:  # the store may be down: the next pass tries again
                    log.warning("gauge refresh failed", error=str(exc))
        await asyncio.sleep(every_s)
        await container.outbox.try_drain()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("worker", settings.log_level, settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with bootstrap.connect(settings) as container:
            app.state.container = container
            app.state.tokens = container.tokens  # what headwater.edge.auth.RequireToken checks
            drain = asyncio.create_task(_drain_outbox(container, settings.outbox_drain_s))
            log.info("worker started", port=settings.app_port)
            try:
                yield
            finally:
                drain.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await drain

    token = settings.app_api_token.get_secret_value() if settings.app_api_token else None
    app = create_service_app("worker", "0.1.0", lifespan, token)
    subs = Subscriptions()
    probes = ProbeRecorder()
    probes.subscribe(subs)
    subscribe(subs, lambda: app.state.container)
    for router in (
        datasets_api.router,
        dead_letters_api.router,
        records_api.router,
        reports_api.router,
        reprocess_api.router,
        probes.router,
    ):
        app.include_router(router)
    subs.mount(app)
    return app
