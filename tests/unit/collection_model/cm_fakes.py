"""In-memory fakes of collection-model's ports."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from collection_model.service_layer.ports import FetchedDocument, HttpResponse, TransientFetchError

Route = Callable[[str, dict[str, str], dict[str, str]], tuple[int, dict[str, str], bytes]]


class FakeHttp:
    """A fake remote API: routes by path, counts requests and in-flight concurrency."""

    def __init__(self, route: Route, delay: float = 0.0) -> None:
        self.route = route
        self.delay = delay
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        json_body: Any,
        timeout: float,
        max_bytes: int,
        max_redirects: int,
        allowlist: list[str],
    ) -> HttpResponse:
        self.calls.append((url, dict(headers)))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            parts = urlsplit(url)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            status, resp_headers, body = self.route(parts.path, query, headers)
            if status == 0:
                raise TransientFetchError("connection reset")
            return HttpResponse(status, {"content-type": "application/json", **resp_headers}, body, url)
        finally:
            self.in_flight -= 1


class FakeSecrets:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.reads: list[str] = []

    async def get_secret(self, store: str, key: str) -> str:
        self.reads.append(key)
        if key not in self.values:
            raise LookupError(f"secret {key!r} not found in {store!r}")
        return self.values[key]


class FakeTokens:
    def __init__(self) -> None:
        self.issued = 0

    async def client_credentials(
        self, token_url: str, client_id: str, client_secret: str, scope: str | None
    ) -> tuple[str, float]:
        self.issued += 1
        return f"token-{self.issued}", 120.0


class FakeItems:
    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items

    async def list_items(self, app_id: str, tool: str, arguments: dict[str, Any]) -> list[dict[str, Any]]:
        return list(self.items)


class ListSink:
    def __init__(self) -> None:
        self.docs: list[FetchedDocument] = []

    async def emit(self, doc: FetchedDocument) -> None:
        self.docs.append(doc)


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
