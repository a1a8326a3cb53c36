"""``AiohttpSidecar``: the planner's frequent sidecar calls — Dapr Jobs and work-item publishing —
on an aiohttp session.

``headwater.edge.sidecar.DaprSidecar`` (httpx) costs 1.5 to 4.5 ms of the planner's CPU per call on
this runtime (httpcore closes every connection beyond the 20 it keeps alive and looks for an
async library on each request); an aiohttp session costs about 0.2 ms. At 10,000 job
registrations, or 1,000 triggers due in the same minute, that difference is the planner's whole
CPU. The calls keep ``DaprSidecar``'s contract: the same paths and bodies, a client span of the
same name around each whose W3C ``traceparent`` goes with the request (Dapr puts it into the
CloudEvent it publishes), and the same ``DaprError`` (``status`` None when the sidecar is
unreachable) for every failure. The session is left out of the aiohttp-client instrumentation
(installed while spans are exported, ``headwater.edge.tracing``): it would add a second span to
each call, and a tenth of the planner's CPU during a mass registration.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
from opentelemetry.trace import SpanKind, Status, StatusCode

from headwater.edge.sidecar import DaprError

__all__ = ["AiohttpSidecar", "new_session"]


def new_session(
    base_url: str, api_token: str | None, connections: int = 64, timeout: float = 35.0
) -> aiohttp.ClientSession:
    """The session of an ``AiohttpSidecar``: at most ``connections`` open to the sidecar, kept alive."""
    headers = {"dapr-api-token": api_token} if api_token else {}
    session = aiohttp.ClientSession(
        base_url=base_url.rstrip("/") + "/",
        headers=headers,
        connector=aiohttp.TCPConnector(limit=connections),
        timeout=aiohttp.ClientTimeout(total=timeout),
        skip_auto_headers=("User-Agent",),
    )
    AioHttpClientInstrumentor.uninstrument_session(session)  # spans of its own: ``AiohttpSidecar._call``
    return session


class AiohttpSidecar:
    """Publish, schedule, get and delete jobs through the sidecar (``DaprSidecar``'s signatures)."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def publish(self, pubsub: str, topic: str, data: Any, metadata: dict[str, str] | None = None) -> None:
        params = {f"metadata.{k}": v for k, v in (metadata or {}).items()}
        body = json.dumps(data, default=str).encode()
        await self._call(
            "POST", f"v1.0/publish/{pubsub}/{topic}", f"publish to {topic}", f"publish {topic}", body, params
        )

    async def schedule_job(self, name: str, job: dict[str, Any]) -> None:
        await self._call("POST", f"v1.0/jobs/{name}", f"schedule job {name}", "schedule job", json.dumps(job).encode())

    async def get_job(self, name: str) -> dict[str, Any] | None:
        """The job, or None when the scheduler does not know it (Dapr answers 500 then)."""
        try:
            body = await self._call("GET", f"v1.0/jobs/{name}", f"get job {name}", "get job")
        except DaprError as exc:
            if exc.status == 500 and (
                (exc.code or "").startswith("DAPR_SCHEDULER_GET_JOB") or "not found" in str(exc).lower()
            ):
                return None
            raise
        return dict(json.loads(body))

    async def delete_job(self, name: str) -> None:
        await self._call("DELETE", f"v1.0/jobs/{name}", f"delete job {name}", "delete job")

    async def _call(
        self,
        method: str,
        path: str,
        what: str,
        span: str,
        body: bytes | None = None,
        params: dict[str, str] | None = None,
    ) -> bytes:
        with trace.get_tracer("headwater").start_as_current_span(span, kind=SpanKind.CLIENT) as current:
            try:
                return await self._send(method, path, what, body, params)
            except DaprError as exc:
                current.set_status(Status(StatusCode.ERROR, str(exc)[:200]))
                raise

    async def _send(
        self, method: str, path: str, what: str, body: bytes | None, params: dict[str, str] | None
    ) -> bytes:
        headers = {"content-type": "application/json"} if body is not None else {}
        propagate.inject(headers)
        try:
            async with self._session.request(method, path, data=body, params=params, headers=headers) as response:
                content = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DaprError(f"{what}: sidecar unreachable ({type(exc).__name__})") from exc
        if status >= 300:
            code, message = _error(content)
            raise DaprError(f"{what}: HTTP {status} {code or ''} {message}".strip(), status, code)
        return content


def _error(content: bytes) -> tuple[str | None, str]:
    """Dapr's ``errorCode`` and ``message`` of an error answer (the text when it is not JSON)."""
    try:
        body = json.loads(content)
        return body.get("errorCode"), str(body.get("message", ""))
    except (ValueError, AttributeError):
        return None, content[:300].decode(errors="replace")
