"""The worker's FastAPI app: ``raw-documents`` (+ its dead letters), datasets, dead-letter API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from pydantic import ValidationError

from headwater.contracts.messages import RawDocument
from headwater.contracts.topics import RAW_DOCUMENTS, dead_letter
from headwater.edge.auth import ApiTokenProvider
from headwater.edge.blobs import MongoBlobStore
from headwater.edge.configs import PlannerConfigClient
from headwater.edge.logging import configure_logging
from headwater.edge.probes import ProbeRecorder
from headwater.edge.service import create_service_app, sidecar_and_database
from headwater.edge.subscriptions import CloudEvent, Outcome, Subscriptions
from headwater.telemetry import configure_metrics
from worker.adapters.dapr_publishers import DaprEventPublisher, DaprRepublisher, DaprResultPublisher
from worker.adapters.mongo_dead_letters import MongoDeadLetterStore
from worker.adapters.mongo_store import (
    MongoAuditLog,
    MongoDatasetVersions,
    MongoParsingLog,
    MongoRawDocuments,
    MongoRecordStore,
)
from worker.bootstrap import Container, build
from worker.entrypoints import api
from worker.service_layer.process import Busy, Processed
from worker.settings import Settings

log = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("worker", settings.log_level, settings.log_json)
    configure_metrics("worker")
    subs = Subscriptions()
    probes = ProbeRecorder()
    probes.subscribe(subs)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with sidecar_and_database(settings) as (sidecar, db):
            app.state.container = build(
                raw=MongoRawDocuments(db),
                blobs=MongoBlobStore(db),
                configs=PlannerConfigClient(sidecar),
                records=MongoRecordStore(db),
                parsing_log=MongoParsingLog(db),
                datasets=MongoDatasetVersions(db),
                audit=MongoAuditLog(db),
                events=DaprEventPublisher(sidecar),
                results=DaprResultPublisher(sidecar),
                letters=MongoDeadLetterStore(db),
                republisher=DaprRepublisher(sidecar),
            )
            app.state.db = db
            api_token = settings.api_token.get_secret_value() if settings.api_token else None
            app.state.tokens = ApiTokenProvider(sidecar, api_token)
            log.info("worker started", port=settings.app_port)
            yield

    token = settings.app_api_token.get_secret_value() if settings.app_api_token else None
    app = create_service_app("worker", "0.1.0", lifespan, token)

    async def on_raw_document(event: CloudEvent) -> Outcome:
        try:
            doc = RawDocument.model_validate(event.get("data") or {})
        except ValidationError as exc:
            log.error(
                "malformed raw document dead-lettered",
                event_id=event.get("id"),
                errors=[f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()][:5],
            )
            return Outcome.DROP
        container: Container = app.state.container
        outcome = await container.processor.handle(doc)
        if isinstance(outcome, Processed):
            return Outcome.SUCCESS
        if isinstance(outcome, Busy):
            return Outcome.RETRY
        return Outcome.DROP

    async def on_dead_letter(event: CloudEvent) -> Outcome:
        await app.state.container.dead_letters.receive(event, RAW_DOCUMENTS)
        return Outcome.SUCCESS

    subs.add(RAW_DOCUMENTS, on_raw_document)
    subs.add(dead_letter(RAW_DOCUMENTS), on_dead_letter, with_dead_letter=False)
    app.include_router(api.router)
    app.include_router(probes.router)
    subs.mount(app)
    return app
