"""An MCP server written with the official MCP Python SDK only (``MCPServer``, Streamable
HTTP), as a user would run one: no Headwater code. ``python mcp_test_server.py`` with
``PORT`` and ``MCP_STATELESS`` (true: stateless with JSON replies; else the SDK's default,
stateful with SSE replies).

Tools: ``list_regions`` (a list: the SDK sends ``structuredContent: {"result": [...]}``),
``refuse`` (raises: the SDK answers ``isError: true``), ``stall`` (never answers).
"""

from __future__ import annotations

import os

import anyio
import uvicorn
from mcp.server.mcpserver import MCPServer
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

server = MCPServer("regions-under-test", log_level="WARNING")


@server.tool()
def list_regions(count: int = 12, prefix: str = "g") -> list[dict[str, object]]:
    """``count`` regions with coordinates."""
    return [
        {"id": f"{prefix}{n:02d}", "name": f"region {n}", "latitude": 45.0 + n / 4, "longitude": 5.0 + n / 3}
        for n in range(1, count + 1)
    ]


@server.tool()
def refuse(reason: str = "the region registry is closed") -> list[dict[str, object]]:
    """Always fails (the SDK turns the exception into a result with isError)."""
    raise RuntimeError(reason)


@server.tool()
async def stall() -> list[dict[str, object]]:
    """Never answers."""
    await anyio.sleep_forever()
    return []


@server.custom_route("/healthz", methods=["GET"])
async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


if __name__ == "__main__":
    stateless = os.environ.get("MCP_STATELESS", "").lower() == "true"
    app = server.streamable_http_app(stateless_http=stateless, json_response=stateless)
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning")
