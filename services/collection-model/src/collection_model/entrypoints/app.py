"""collection-model's FastAPI app: the ``work-items`` subscription and file uploads."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI, HTTPException, Request
from pydantic import ValidationError

from collection_model.adapters.dapr_edges import DaprDocumentPublisher, DaprItemSource, DaprSecretProvider
from collection_model.adapters.http_fetcher import AiohttpFetcher, AiohttpTokenFetcher, new_session
from collection_model.service_layer.auth import Authenticator
from collection_model.service_layer.fetch import FetchService
from collection_model.service_layer.work import WorkHandler
from collection_model.settings import Settings
from headwater.contracts.messages import FetchTask
from headwater.contracts.topics import WORK_ITEMS
from headwater.edge.auth import ApiTokenProvider, RequireToken
from headwater.edge.blobs import MongoBlobStore
from headwater.edge.configs import ConfigNotFoundError, PlannerConfigClient
from headwater.edge.logging import configure_logging
from headwater.edge.service import create_service_app, sidecar_and_database
from headwater.edge.sidecar import DaprError
from headwater.edge.subscriptions import CloudEvent, Outcome, Subscriptions
from headwater.telemetry import configure_metrics

log = structlog.get_logger(__name__)
UPLOAD_TYPES = {
    "text/csv": "csv",
    "application/json": "json",
    "application/x-ndjson": "ndjson",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("collection-model", settings.log_level, settings.log_json)
    configure_metrics("collection-model")
    subs = Subscriptions()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with sidecar_and_database(settings) as (sidecar, db), new_session() as session:
            configs = PlannerConfigClient(sidecar)
            publisher = DaprDocumentPublisher(sidecar, MongoBlobStore(db), settings.inline_limit_bytes)
            auth = Authenticator(DaprSecretProvider(sidecar), AiohttpTokenFetcher(session))
            fetch = FetchService(
                AiohttpFetcher(session), DaprItemSource(sidecar), auth, platform_allowlist=settings.allow_private_hosts
            )
            app.state.work = WorkHandler(configs, fetch, publisher)
            app.state.configs, app.state.publisher = configs, publisher
            api_token = settings.api_token.get_secret_value() if settings.api_token else None
            app.state.tokens = ApiTokenProvider(sidecar, api_token)
            log.info("collection-model started", port=settings.app_port)
            yield

    token = settings.app_api_token.get_secret_value() if settings.app_api_token else None
    app = create_service_app("collection-model", "0.1.0", lifespan, token)

    async def on_work_item(event: CloudEvent) -> Outcome:
        try:
            task = FetchTask.model_validate(event.get("data") or {})
        except ValidationError:
            log.error("malformed work item dead-lettered", event_id=event.get("id"))
            return Outcome.DROP
        try:
            await app.state.work.handle(task)
        except DaprError as exc:  # publishing failed: let Dapr redeliver (the worker dedups)
            log.error("publishing failed; retrying the work item", task_id=task.task_id, error=str(exc))
            return Outcome.RETRY
        except ValueError as exc:
            log.error("work item cannot be processed", task_id=task.task_id, error=str(exc))
            return Outcome.DROP
        return Outcome.SUCCESS

    @app.post("/api/v1/sources/{source_id}/uploads", tags=["uploads"], status_code=202)
    async def upload(source_id: str, request: Request, _auth: RequireToken) -> dict[str, Any]:
        """Push mode: a CSV, XLSX or JSON file becomes a raw document like a fetched body."""
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        if content_type not in UPLOAD_TYPES:
            raise HTTPException(415, f"unsupported content type {content_type!r}; use one of {sorted(UPLOAD_TYPES)}")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > settings.max_upload_bytes:
                raise HTTPException(413, f"upload larger than {settings.max_upload_bytes} bytes")
        if not body:
            raise HTTPException(422, "the upload is empty")
        try:
            version = await app.state.configs.latest_version(source_id)
        except ConfigNotFoundError as exc:
            raise HTTPException(404, str(exc)) from exc
        digest = hashlib.sha256(body).hexdigest()
        filename = request.headers.get("x-filename", "upload")
        task = FetchTask(
            source_id=source_id,
            config_version=version,
            task_id=f"{source_id}:upload-{digest[:16]}",
            run_id=f"upload-{digest[:16]}",
        )
        await app.state.publisher.publish_document(
            task, f"upload/{filename}", bytes(body), content_type, {"filename": filename, "uploaded": True}
        )
        return {"source_id": source_id, "task_id": task.task_id, "sha256": digest, "bytes": len(body)}

    subs.add(WORK_ITEMS, on_work_item)
    subs.mount(app)
    return app
