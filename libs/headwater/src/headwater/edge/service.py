"""The FastAPI shell every service uses: ``/healthz`` and the app-token check."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

__all__ = ["create_service_app"]

OPEN_PATHS = ("/healthz", "/openapi.json", "/docs")


def create_service_app(name: str, version: str, lifespan: Any, app_api_token: str | None) -> FastAPI:
    """A FastAPI app with ``GET /healthz``; when ``app_api_token`` is set, every other path
    requires it in the ``dapr-api-token`` header (daprd sends it on every call)."""
    app = FastAPI(title=f"headwater {name}", version=version, lifespan=lifespan)

    @app.get("/healthz", tags=["health"])
    async def healthz(request: Request) -> dict[str, Any]:
        checks: Callable[[], Awaitable[dict[str, Any]]] | None = getattr(request.app.state, "health", None)
        return {"status": "ok", "service": name, **(await checks() if checks else {})}

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
