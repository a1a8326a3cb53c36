"""Bearer-token check of the operator APIs (planner, worker, uploads); the token comes from settings
or the Dapr secret store."""

from __future__ import annotations

import hmac
import time
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from headwater.contracts.topics import API_TOKEN_SECRET, SECRET_STORE
from headwater.edge.logging import secrets
from headwater.edge.sidecar import DaprError, DaprSidecar

__all__ = ["API_TOKEN_SECRET", "ApiTokenProvider", "RequireToken"]


class ApiTokenProvider:
    """``HEADWATER_API_TOKEN`` when set, else the secret ``headwater:api_token`` read from the
    Dapr secret store at use time (kept for a minute so each request is not a sidecar call)."""

    def __init__(self, sidecar: DaprSidecar, configured: str | None, ttl: float = 60.0) -> None:
        self._sidecar = sidecar
        self._configured = configured
        self._ttl = ttl
        self._cached: tuple[float, str | None] | None = None

    async def token(self) -> str | None:
        if self._configured:
            return self._configured
        if self._cached and time.monotonic() - self._cached[0] < self._ttl:
            return self._cached[1]
        try:
            value = await self._sidecar.secret_value(SECRET_STORE, API_TOKEN_SECRET)
        except DaprError:
            value = None
        secrets.register(value)
        self._cached = (time.monotonic(), value)
        return value


async def _require_token(request: Request) -> None:
    provider: ApiTokenProvider = request.app.state.tokens
    expected = await provider.token()
    if not expected:
        raise HTTPException(401, f"no API token is configured (HEADWATER_API_TOKEN or the secret {API_TOKEN_SECRET!r})")
    header = request.headers.get("authorization", "")
    given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(401, "missing or wrong API token", headers={"WWW-Authenticate": "Bearer"})


RequireToken = Annotated[None, Depends(_require_token)]
