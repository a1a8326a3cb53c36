"""The MCP item source (``adapters.mcp_client``) against a server on the official MCP Python SDK,
served by uvicorn on loopback at the path a Dapr invoke URL has, in the SDK's stateful mode
(sessions, SSE replies) and stateless mode (JSON replies). What went over the wire is
recorded: the handshake, the session id, the Accept header, the closing DELETE.
(On the real runtime, through Dapr: tests/integration/test_mcp_iteration.py.)"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
import uvicorn
from mcp.server.mcpserver import MCPServer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from collection_model.adapters.mcp_client import McpItemSource
from collection_model.domain.iteration import ItemListingError
from collection_model.service_layer.ports import ToolCall

PATH = "/v1.0/invoke/regions/method/mcp"


def server() -> MCPServer:
    mcp = MCPServer("regions", log_level="WARNING")

    @mcp.tool()
    def list_regions(count: int = 3) -> list[dict[str, Any]]:
        return [{"id": f"r{n}", "latitude": 50 + n} for n in range(1, count + 1)]

    @mcp.tool()
    def refuse() -> list[dict[str, Any]]:
        raise RuntimeError("registry closed")

    @mcp.tool()
    async def stall() -> list[dict[str, Any]]:
        await anyio.sleep_forever()
        return []

    return mcp


class Recorder:
    """ASGI middleware noting each request: HTTP method, JSON-RPC method, MCP headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[dict[str, Any]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        rpc = json.loads(body).get("method") if body else None
        self.seen.append(
            {
                "http": scope["method"],
                "rpc": rpc,
                "session": headers.get("mcp-session-id"),
                "version": headers.get("mcp-protocol-version"),
                "accept": headers.get("accept", ""),
                "token": headers.get("dapr-api-token"),
            }
        )
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


@pytest.fixture(scope="module", params=["stateful", "stateless"])
def running(request: pytest.FixtureRequest) -> Iterator[tuple[str, Recorder]]:
    stateless = request.param == "stateless"
    app = server().streamable_http_app(streamable_http_path=PATH, stateless_http=stateless, json_response=stateless)
    recorder = Recorder(app)
    config = uvicorn.Config(recorder, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = uv.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", recorder
    uv.should_exit = True
    thread.join(10)


def call(tool: str, timeout: float = 10, **arguments: Any) -> ToolCall:
    return ToolCall(server="regions", tool=tool, arguments=arguments, timeout_seconds=timeout)


async def test_a_session_initializes_calls_the_tool_and_closes(running: tuple[str, Recorder]) -> None:
    url, recorder = running
    recorder.seen.clear()
    result = await McpItemSource(url, api_token="sidecar-token").call_tool(call("list_regions", count=2))
    assert result.structured == {"result": [{"id": "r1", "latitude": 51}, {"id": "r2", "latitude": 52}]}
    assert [json.loads(t) for t in result.texts] == [{"id": "r1", "latitude": 51}, {"id": "r2", "latitude": 52}]
    assert not result.is_error
    rpcs = [(s["http"], s["rpc"]) for s in recorder.seen if s["http"] != "GET"]
    assert rpcs[:3] == [("POST", "initialize"), ("POST", "notifications/initialized"), ("POST", "tools/call")]
    assert all(s["token"] == "sidecar-token" for s in recorder.seen)
    posts = [s for s in recorder.seen if s["http"] == "POST"]
    assert all("application/json" in s["accept"] and "text/event-stream" in s["accept"] for s in posts)
    assert all(s["version"] for s in posts[1:]), "MCP-Protocol-Version after the handshake"
    session = posts[1]["session"]
    if session is not None:  # the stateful server keeps a session: every later request names it, then DELETE
        assert all(s["session"] == session for s in recorder.seen[1:])
        assert recorder.seen[-1]["http"] == "DELETE"


async def test_is_error_comes_back_as_a_result(running: tuple[str, Recorder]) -> None:
    url, _ = running
    result = await McpItemSource(url).call_tool(call("refuse"))
    assert result.is_error and result.structured is None and "refuse" in " ".join(result.texts)


async def test_a_tool_that_never_answers_times_out_naming_server_and_tool(running: tuple[str, Recorder]) -> None:
    url, _ = running
    started = time.monotonic()
    with pytest.raises(ItemListingError, match=r"MCP server 'regions', tool 'stall': no answer within 1s"):
        await McpItemSource(url).call_tool(call("stall", timeout=1))
    assert time.monotonic() - started < 6


async def test_an_unknown_endpoint_is_an_error_naming_the_status(running: tuple[str, Recorder]) -> None:
    url, _ = running
    wrong = ToolCall(server="regions", tool="list_regions", arguments={}, timeout_seconds=5, path="/nope")
    with pytest.raises(ItemListingError, match=r"MCP server 'regions', tool 'list_regions': .*(404|Not Found)"):
        await McpItemSource(url).call_tool(wrong)


async def test_an_unreachable_sidecar_is_an_error() -> None:
    with pytest.raises(ItemListingError, match=r"MCP server 'regions', tool 'list_regions': unreachable"):
        await McpItemSource("http://127.0.0.1:9").call_tool(call("list_regions", timeout=2))
