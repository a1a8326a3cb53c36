"""The shell every service uses: the FastAPI app with ``/healthz``, ``/metrics``, tracing and
the app-token check, the uvicorn runner, the clock, and the sidecar and database clients of
the lifespan.

``/healthz`` and ``/metrics`` are open (no ``dapr-api-token``), like a kubelet probe and a
Prometheus scrape expect: the app port is bound to loopback locally (in Kubernetes the
NetworkPolicies decide who reaches the pod), and ``/metrics`` holds counts per source id
only (no URL, no secret, no record). It is also reachable through
the sidecar (``/v1.0/invoke/<app>/method/metrics``), which sends the token anyway."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from headwater.edge.settings import ServiceSettings
from headwater.edge.sidecar import DaprSidecar
from headwater.edge.tracing import configure_tracing, instrument_app
from headwater.telemetry import configure_metrics

__all__ = ["SystemClock", "create_service_app", "serve", "sidecar_and_database"]

OPEN_PATHS = ("/healthz", "/metrics", "/openapi.json", "/docs")


def create_service_app(name: str, version: str, lifespan: Any, app_api_token: str | None) -> FastAPI:
    """A FastAPI app with ``GET /healthz`` and ``GET /metrics`` (Prometheus exposition), traced
    (``headwater.edge.tracing``); when ``app_api_token`` is set, every other path requires it in
    the ``dapr-api-token`` header (daprd sends it on every call)."""
    configure_tracing(name)
    configure_metrics(name)
    app = FastAPI(title=f"headwater {name}", version=version, lifespan=lifespan)
    instrument_app(app)

    @app.get("/healthz", tags=["health"])
    async def healthz(request: Request) -> dict[str, Any]:
        checks: Callable[[], Awaitable[dict[str, Any]]] | None = getattr(request.app.state, "health", None)
        return {"status": "ok", "service": name, **(await checks() if checks else {})}

    @app.get("/metrics", tags=["health"], include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    if app_api_token:
        expected = app_api_token.encode()

        @app.middleware("http")
        async def require_app_token(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
            if request.url.path.startswith(OPEN_PATHS):
                return await call_next(request)
            given = request.headers.get("dapr-api-token", "").encode()
            if not hmac.compare_digest(given, expected):
                return JSONResponse({"detail": "missing or invalid dapr-api-token"}, status_code=401)
            return await call_next(request)

    return app


def serve(factory: str, port: int, host: str = "127.0.0.1") -> None:
    """Run an app factory with uvicorn (``python -m <service>`` under ``dapr run``): on loopback
    unless a container sets ``HEADWATER_BIND_ADDRESS`` (``ServiceSettings.bind_address``)."""
    import uvicorn

    uvicorn.run(factory, factory=True, host=host, port=port, log_level="warning", access_log=False)


class SystemClock:
    """The real clock (services' bootstraps); tests pass a fake with the same ``now``."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@asynccontextmanager
async def sidecar_and_database(settings: ServiceSettings) -> AsyncIterator[tuple[DaprSidecar, Any]]:
    """The two clients every service opens in its lifespan: its Dapr sidecar and its database."""
    from pymongo import AsyncMongoClient

    token = settings.dapr_api_token.get_secret_value() if settings.dapr_api_token else None
    sidecar = DaprSidecar(settings.dapr_url, token)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri, tz_aware=True)
    try:
        yield sidecar, mongo[settings.mongodb_database]
    finally:
        await sidecar.aclose()
        await mongo.close()
