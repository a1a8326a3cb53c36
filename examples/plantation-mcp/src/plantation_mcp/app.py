"""A minimal MCP server over HTTP (JSON-RPC 2.0): initialize, tools/list, tools/call."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request

PROTOCOL_VERSION = "2025-06-18"
DEFAULT_REGIONS = [
    {"id": f"r{i:02d}", "name": name, "latitude": lat, "longitude": lon}
    for i, (name, lat, lon) in enumerate(
        [
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
        ],
        start=1,
    )
]
TOOLS = [
    {
        "name": "list_active_regions",
        "description": "Regions with active plantations, to iterate over.",
        "inputSchema": {"type": "object", "properties": {"limit": {"type": "integer", "minimum": 1}}},
    }
]


def _regions() -> list[dict[str, Any]]:
    path = os.environ.get("PLANTATION_REGIONS_FILE")
    return json.loads(Path(path).read_text()) if path else DEFAULT_REGIONS


def create_app() -> FastAPI:
    app = FastAPI(title="plantation-mcp")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "plantation-mcp"}

    @app.post("/mcp")
    async def mcp(request: Request) -> dict[str, Any]:
        try:
            call = await request.json()
        except ValueError:
            return _error(None, -32700, "parse error")
        method, rid, params = call.get("method"), call.get("id"), call.get("params") or {}
        if method == "initialize":
            return _ok(
                rid,
                {
                    "protocolVersion": PROTOCOL_VERSION,
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "plantation-mcp", "version": "0.1.0"},
                },
            )
        if method == "tools/list":
            return _ok(rid, {"tools": TOOLS})
        if method == "tools/call":
            if params.get("name") != "list_active_regions":
                return _error(rid, -32602, f"unknown tool {params.get('name')!r}")
            regions = _regions()
            limit = (params.get("arguments") or {}).get("limit")
            if isinstance(limit, int) and limit > 0:
                regions = regions[:limit]
            return _ok(
                rid,
                {
                    "content": [{"type": "text", "text": json.dumps({"items": regions})}],
                    "structuredContent": {"items": regions},
                    "isError": False,
                },
            )
        return _error(rid, -32601, f"method {method!r} not found")

    return app


def _ok(rid: Any, result: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "result": result}


def _error(rid: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}}
