"""The MCP item source: the official MCP Python SDK's client over Streamable HTTP, reached
through Dapr service invocation (``/v1.0/invoke/<server>/method/<path>`` on our sidecar).

One client session per call, as the specification describes it: ``initialize`` (the client
offers its newest handshake protocol version, the server answers the one it speaks) and
``notifications/initialized``; then ``tools/call`` with ``Accept: application/json,
text/event-stream``, the ``Mcp-Session-Id`` the server gave (when it keeps sessions) and
``MCP-Protocol-Version`` on every request; the reply read as JSON or as an SSE stream;
finally the session is closed with ``DELETE``. The call is a client span (``mcp tools/call``)
whose W3C ``traceparent`` goes with every request, so the MCP server's sidecar and app
continue the document's trace. Stateless servers (no session id, JSON
replies) and stateful ones (a session, SSE replies) are both spoken to this way.

Every failure becomes an ``ItemListingError`` naming the server, the tool and the reason:
a JSON-RPC error of the server, an HTTP error of the sidecar or the server (an app id that
is not running, a missing endpoint), a result that does not conform, or no answer within
``timeout_seconds`` (the request is then cancelled with ``notifications/cancelled``).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, Implementation, TextContent
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind
from pydantic import ValidationError

from collection_model.domain.iteration import ItemListingError
from collection_model.service_layer.ports import ToolCall, ToolResult

__all__ = ["McpItemSource"]

CLIENT_INFO = Implementation(name="headwater-collection-model", version="0.1.0")
TIMEOUT_CODE = -32001  # the SDK's REQUEST_TIMEOUT
GRACE_SECONDS = 5.0  # for the handshake and closing the session, on top of the call's own timeout


class McpItemSource:
    """``ItemSource`` over the sidecar at ``dapr_url`` (``dapr-api-token`` sent when set)."""

    def __init__(self, dapr_url: str, api_token: str | None = None) -> None:
        self._dapr_url = dapr_url.rstrip("/")
        self._headers = {"dapr-api-token": api_token} if api_token else {}

    def endpoint(self, call: ToolCall) -> str:
        return f"{self._dapr_url}/v1.0/invoke/{quote(call.server, safe='')}/method{call.path}"

    async def call_tool(self, call: ToolCall) -> ToolResult:
        tracer = trace.get_tracer("headwater")
        with tracer.start_as_current_span("mcp tools/call", kind=SpanKind.CLIENT, attributes={"mcp.tool": call.tool}):
            return await self._call_tool(call)

    async def _call_tool(self, call: ToolCall) -> ToolResult:
        try:
            with anyio.fail_after(call.timeout_seconds + GRACE_SECONDS):
                result = await self._session_call(call)
        except TimeoutError:
            raise ItemListingError(call.server, call.tool, f"no answer within {call.timeout_seconds:g}s") from None
        except Exception as exc:
            leaf = _leaf(exc)
            if isinstance(leaf, ItemListingError):
                raise leaf from None
            if isinstance(leaf, httpx2.TimeoutException):
                reason = f"no answer within {call.timeout_seconds:g}s ({type(leaf).__name__})"
                raise ItemListingError(call.server, call.tool, reason) from None
            raise ItemListingError(call.server, call.tool, _reason(leaf)) from None
        texts = tuple(block.text for block in result.content if isinstance(block, TextContent))
        return ToolResult(structured=result.structured_content, texts=texts, is_error=bool(result.is_error))

    async def _session_call(self, call: ToolCall) -> CallToolResult:
        # the MCP read timeout (which cancels the request) comes first; HTTP's only backs it up
        timeout = httpx2.Timeout(call.timeout_seconds + 2, connect=min(call.timeout_seconds, 10.0))
        headers = dict(self._headers)
        propagate.inject(headers)
        async with httpx2.AsyncClient(headers=headers, timeout=timeout) as http:
            transport = streamable_http_client(self.endpoint(call), http_client=http)
            session = Client(
                transport,
                mode="legacy",  # the initialize handshake: version negotiation, Mcp-Session-Id
                read_timeout_seconds=call.timeout_seconds,
                client_info=CLIENT_INFO,
                cache=None,
            )
            async with session as client:
                try:
                    return await client.call_tool(call.tool, call.arguments)
                except MCPError as exc:
                    if exc.code == TIMEOUT_CODE:
                        reason = f"no answer within {call.timeout_seconds:g}s (the call was cancelled)"
                        raise ItemListingError(call.server, call.tool, reason) from None
                    raise


def _leaf(exc: BaseException) -> BaseException:
    """The first exception of a (nested) exception group, the SDK's task groups raise those."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _reason(exc: BaseException) -> str:
    """What went wrong, in one line."""
    if isinstance(exc, MCPError):
        return f"protocol error {exc.code}: {exc.message}"
    if isinstance(exc, httpx2.HTTPStatusError):
        return f"HTTP {exc.response.status_code} from {exc.request.url.path}{_dapr_error(exc.response)}"
    if isinstance(exc, httpx2.HTTPError):
        return f"unreachable ({type(exc).__name__}: {exc})"
    if isinstance(exc, ValidationError):
        return f"the result does not conform to the protocol ({exc.error_count()} problems)"
    return f"{type(exc).__name__}: {exc}"


def _dapr_error(response: Any) -> str:
    try:
        body = json.loads(response.content)
    except (ValueError, AttributeError, httpx2.HTTPError):
        return ""
    if isinstance(body, dict) and body.get("errorCode"):
        return f" ({body['errorCode']}: {str(body.get('message', ''))[:200]})"
    return ""
