"""An ordinary MCP server on the official MCP Python SDK (``MCPServer``), served over
Streamable HTTP at ``/mcp``, with one tool: ``list_active_regions``.

Nothing here is written for Headwater: the SDK answers ``initialize``, keeps sessions
(``Mcp-Session-Id``) and replies with SSE streams by default, or, with
``PLANTATION_MCP_STATELESS=true``, keeps no session and replies with plain JSON. A returned
list goes out as ``structuredContent: {"result": [...]}`` plus one JSON text block per item.
``GET /healthz`` is for the sidecar's app health check.
"""

from __future__ import annotations

import hmac
import json
import os
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send
from typing_extensions import TypedDict

__all__ = ["DEFAULT_REGIONS", "Region", "create_app", "create_server"]


class Region(TypedDict):
    """One region with active plantations (its coordinates are what a weather API needs)."""

    id: str
    name: str
    latitude: float
    longitude: float


_PLACES = [
    ("north", 52.52, 13.40),
    ("south", 48.14, 11.58),
    ("east", 51.05, 13.74),
    ("west", 50.94, 6.96),
    ("coast", 53.55, 9.99),
    ("valley", 49.45, 11.08),
    ("highlands", 47.57, 10.70),
    ("lakes", 47.66, 9.17),
    ("plains", 52.13, 11.63),
    ("forest", 50.98, 11.33),
    ("delta", 53.08, 8.80),
    ("ridge", 50.11, 8.68),
]
DEFAULT_REGIONS: list[Region] = [
    Region(id=f"r{i:02d}", name=name, latitude=lat, longitude=lon) for i, (name, lat, lon) in enumerate(_PLACES, 1)
]


def _regions() -> list[Region]:
    path = os.environ.get("PLANTATION_REGIONS_FILE")
    return json.loads(Path(path).read_text()) if path else DEFAULT_REGIONS


def create_server() -> MCPServer:
    """The MCP server and its tool (no transport yet)."""
    server = MCPServer(
        "plantation-mcp", version="0.2.0", instructions="Regions with active plantations.", log_level="WARNING"
    )

    @server.tool()
    def list_active_regions(limit: int | None = None) -> list[Region]:
        """Regions with active plantations, to iterate over (the first ``limit`` when given)."""
        regions = _regions()
        return regions[:limit] if limit else regions

    @server.custom_route("/healthz", methods=["GET"])
    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok", "service": "plantation-mcp"})

    return server


def create_app() -> Starlette:
    """The Streamable HTTP app: stateful with SSE replies (the SDK's default), or stateless
    with JSON replies when ``PLANTATION_MCP_STATELESS`` is true. With ``APP_API_TOKEN`` set,
    every request but ``/healthz`` must carry it as ``dapr-api-token`` (daprd sends it)."""
    stateless = os.environ.get("PLANTATION_MCP_STATELESS", "").lower() in ("1", "true", "yes")
    app = create_server().streamable_http_app(stateless_http=stateless, json_response=stateless)
    token = os.environ.get("APP_API_TOKEN")
    if token:
        app.add_middleware(RequireAppToken, token=token)
    return app


class RequireAppToken:
    """ASGI middleware: every HTTP request but ``/healthz`` carries ``dapr-api-token``."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app, self.expected = app, token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] != "/healthz":
            given = dict(scope["headers"]).get(b"dapr-api-token", b"")
            if not hmac.compare_digest(given, self.expected):
                response = JSONResponse({"detail": "missing or invalid dapr-api-token"}, status_code=401)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
