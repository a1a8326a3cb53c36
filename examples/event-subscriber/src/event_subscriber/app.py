"""Receives domain events, drops repeats by idempotency key, serves them back.

With ``APP_API_TOKEN`` set (``headwater up`` sets it), every request but ``/healthz`` must carry
it as ``dapr-api-token`` (its sidecar sends it), so a forged delivery to the app port is refused."""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any

from fastapi import FastAPI

from headwater.contracts.events import EVENT_MODELS
from headwater.contracts.topics import INGESTION_EVENTS
from headwater.edge.service import create_service_app
from headwater.edge.subscriptions import CloudEvent, Outcome, Subscriptions

KEEP = 10_000


def create_app() -> FastAPI:
    app = create_service_app("event-subscriber", "0.1.0", None, os.environ.get("APP_API_TOKEN") or None)
    seen: OrderedDict[str, dict[str, Any]] = OrderedDict()
    subs = Subscriptions()

    async def on_event(event: CloudEvent) -> Outcome:
        data = event.get("data") or {}
        model = EVENT_MODELS.get(str(data.get("type")))
        if model is None:
            return Outcome.DROP  # not a Headwater domain event: dead-letter it
        parsed = model.model_validate(data)
        if parsed.idempotency_key not in seen:  # at-least-once delivery: repeats are dropped here
            seen[parsed.idempotency_key] = {"cloudevent_type": event.get("type"), **data}
            while len(seen) > KEEP:
                seen.popitem(last=False)
        return Outcome.SUCCESS

    subs.add(INGESTION_EVENTS, on_event)
    subs.mount(app)

    @app.get("/events")
    async def events(source: str | None = None, type: str | None = None) -> list[dict[str, Any]]:
        return [e for e in seen.values() if source in (None, e.get("source_id")) and type in (None, e.get("type"))]

    return app
