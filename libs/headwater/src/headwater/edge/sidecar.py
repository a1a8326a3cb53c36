"""An async client of the local Dapr sidecar's HTTP API (publish, invoke, secrets, jobs).

The Python SDK's clients block the event loop in their constructors (a synchronous
health poll, DAPR.md §9), so the services speak the sidecar's documented HTTP API with
httpx instead. Errors keep Dapr's error code and never include request bodies.

Every call is a client span (``publish <topic>``, ``invoke <app>``, …) whose W3C
``traceparent`` goes with the request: Dapr puts it into the CloudEvent it publishes (bulk
entries included) and forwards it on invocation, so a trace goes on across the sidecars.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

__all__ = ["DaprError", "DaprSidecar"]


class DaprError(RuntimeError):
    """A sidecar call failed; ``status`` is the HTTP status (None when unreachable)."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class DaprSidecar:
    """Calls to ``http://127.0.0.1:<DAPR_HTTP_PORT>``; one pooled client per process."""

    def __init__(
        self,
        base_url: str,
        api_token: str | None = None,
        timeout: float = 35.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"dapr-api-token": api_token} if api_token else {}
        self._client = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout, transport=transport)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _call(self, method: str, path: str, what: str, span: str | None = None, **kwargs: Any) -> httpx.Response:
        with trace.get_tracer("headwater").start_as_current_span(span or what, kind=SpanKind.CLIENT) as current:
            kwargs["headers"] = dict(kwargs.get("headers") or {})
            propagate.inject(kwargs["headers"])
            try:
                return await self._send(method, path, what, **kwargs)
            except DaprError as exc:
                current.set_status(Status(StatusCode.ERROR, str(exc)[:200]))
                raise

    async def _send(self, method: str, path: str, what: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise DaprError(f"{what}: sidecar unreachable ({type(exc).__name__})") from exc
        if response.status_code >= 300:
            code = None
            try:
                body = response.json()
                code, message = body.get("errorCode"), body.get("message", "")
            except (ValueError, AttributeError):
                message = response.text[:300]
            raise DaprError(
                f"{what}: HTTP {response.status_code} {code or ''} {message}".strip(), response.status_code, code
            )
        return response

    async def publish(self, pubsub: str, topic: str, data: Any, metadata: dict[str, str] | None = None) -> None:
        params = {f"metadata.{k}": v for k, v in (metadata or {}).items()}
        await self._call(
            "POST",
            f"/v1.0/publish/{pubsub}/{topic}",
            f"publish to {topic}",
            f"publish {topic}",
            content=json.dumps(data, default=str),
            params=params,
            headers={"content-type": "application/json"},
        )

    async def publish_bulk(self, pubsub: str, topic: str, entries: list[tuple[str, Any, dict[str, str]]]) -> None:
        """One call for many messages: ``(entry id, data, metadata)`` each. Raises DaprError
        naming the failed entries when any of them was not published."""
        body = [
            {"entryId": entry_id, "event": data, "contentType": "application/json", "metadata": meta}
            for entry_id, data, meta in entries
        ]
        try:
            await self._call(
                "POST",
                f"/v1.0-alpha1/publish/bulk/{pubsub}/{topic}",
                f"bulk publish to {topic}",
                f"publish {topic}",
                content=json.dumps(body, default=str),
                headers={"content-type": "application/json"},
            )
        except DaprError as exc:
            raise DaprError(f"{exc} ({len(entries)} entries)", exc.status, exc.code) from exc

    async def invoke(
        self,
        app_id: str,
        method: str,
        http_verb: str = "GET",
        data: Any = None,
        params: dict[str, str] | None = None,
        timeout: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        kwargs: dict[str, Any] = {"params": params, "headers": dict(headers or {})}
        if data is not None:
            kwargs["content"] = json.dumps(data, default=str)
            kwargs["headers"]["content-type"] = "application/json"
        if timeout is not None:
            kwargs["timeout"] = timeout
        return await self._call(
            http_verb,
            f"/v1.0/invoke/{app_id}/method/{method.lstrip('/')}",
            f"invoke {app_id}/{method}",
            f"invoke {app_id}",
            **kwargs,
        )

    async def get_secret(self, store: str, key: str) -> dict[str, str]:
        response = await self._call("GET", f"/v1.0/secrets/{store}/{key}", f"secret {store}/{key!r}", f"secret {store}")
        return dict(response.json())

    async def secret_value(self, store: str, ref: str) -> str | None:
        """The value ``ref`` names, ``<secret>:<key>`` (or a bare ``<secret>`` holding one key):
        one scheme in every store — a Kubernetes Secret and its key, a vault path and field, the
        local file store's two JSON levels (``multiValued``). ``None`` when the key is absent."""
        name, _, field = ref.partition(":")
        found = await self.get_secret(store, name)
        if field:
            return found.get(field)
        return found.get(name) if name in found else (next(iter(found.values())) if len(found) == 1 else None)

    async def schedule_job(self, name: str, job: dict[str, Any]) -> None:
        await self._call("POST", f"/v1.0/jobs/{name}", f"schedule job {name}", "schedule job", json=job)

    async def get_job(self, name: str) -> dict[str, Any] | None:
        """The job, or None when the scheduler does not know it (Dapr answers 500 then)."""
        try:
            response = await self._call("GET", f"/v1.0/jobs/{name}", f"get job {name}", "get job")
        except DaprError as exc:
            if exc.status == 500 and (exc.code or "").startswith("DAPR_SCHEDULER_GET_JOB"):
                return None
            if exc.status == 500 and "not found" in str(exc).lower():
                return None
            raise
        return dict(response.json())

    async def delete_job(self, name: str) -> None:
        await self._call("DELETE", f"/v1.0/jobs/{name}", f"delete job {name}", "delete job")

    async def healthy(self) -> bool:
        try:
            return (await self._client.get("/v1.0/healthz")).status_code == 204
        except httpx.HTTPError:
            return False
