"""In-memory fakes of collection-model's ports, and a fake remote API on ``httpx.MockTransport``.

The fetch service is built exactly as in production — ``HttpxFetcher`` on an
``httpx.AsyncClient`` — except that the client's transport is the fake API and host names
resolve through ``MapResolver`` (no DNS, no sockets).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from collection_model.adapters.http_fetcher import HttpxFetcher, HttpxTokenFetcher
from collection_model.domain.errors import TransientFetchError
from collection_model.domain.masking import SecretMasker
from collection_model.service_layer.auth import Authenticator
from collection_model.service_layer.fetch import FetchService
from collection_model.service_layer.ports import FetchedDocument

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]
PUBLIC_IP = "93.184.216.34"


class InMemorySecretProvider:
    """A secret store: values can change between reads, as in a real one; reads are recorded."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.values = dict(values or {})
        self.reads: list[tuple[str, str]] = []

    async def get_secret(self, store: str, key: str) -> str:
        self.reads.append((store, key))
        if key not in self.values:
            raise LookupError(f"secret {key!r} not found in store {store!r}")
        return self.values[key]


class FakeItemSource:
    def __init__(self, items: list[dict[str, Any]] | None = None, error: Exception | None = None) -> None:
        self.items = items or []
        self.error = error
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    async def list_items(self, app_id: str, tool: str, arguments: dict[str, Any]) -> list[dict[str, Any]]:
        self.calls.append((app_id, tool, arguments))
        if self.error:
            raise self.error
        return [dict(i) for i in self.items]


class ListSink:
    def __init__(self) -> None:
        self.docs: list[FetchedDocument] = []

    async def emit(self, doc: FetchedDocument) -> None:
        self.docs.append(doc)

    def keys(self) -> list[str]:
        return sorted(d.document_key for d in self.docs)


class FakeClock:
    """Time that moves only when someone sleeps; sleeps are recorded, never waited."""

    def __init__(self, start: datetime = datetime(2026, 1, 1, tzinfo=UTC)) -> None:
        self.start = start
        self.elapsed = 0.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        return self.elapsed

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.elapsed += seconds
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self.elapsed += seconds


class MapResolver:
    """DNS from a table; unknown names do not resolve."""

    def __init__(self, table: dict[str, list[str]] | None = None) -> None:
        self.table = table or {}
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host in self.table:
            return list(self.table[host])
        if host.endswith(".example.com"):
            return [PUBLIC_IP]
        raise TransientFetchError(f"cannot resolve {host}")


@dataclass
class FakeApi:
    """Routes by path (``"/v1/data"``) or by ``"METHOD /path"``; counts requests in flight."""

    routes: dict[str, Handler] = field(default_factory=dict)
    delay: float = 0.0
    requests: list[httpx.Request] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    limit: int | None = None  # when set, exceeding it is recorded as a violation
    violations: int = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if self.limit is not None and self.in_flight > self.limit:
            self.violations += 1
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            handler = self.routes.get(f"{request.method} {request.url.path}") or self.routes.get(request.url.path)
            if handler is None:
                return httpx.Response(404, json={"error": "no such route"})
            result = handler(request)
            return await result if inspect.isawaitable(result) else result
        finally:
            self.in_flight -= 1

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


@dataclass
class Harness:
    service: FetchService
    api: FakeApi
    secrets: InMemorySecretProvider
    items: FakeItemSource
    clock: FakeClock
    resolver: MapResolver
    masker: SecretMasker
    client: httpx.AsyncClient


def build(
    api: FakeApi | None = None,
    *,
    items: list[dict[str, Any]] | None = None,
    secrets: dict[str, str] | None = None,
    resolver: MapResolver | None = None,
    platform_allowlist: tuple[str, ...] = (),
) -> Harness:
    api = api or FakeApi()
    clock, resolver = FakeClock(), resolver or MapResolver()
    client = httpx.AsyncClient(transport=api.transport(), follow_redirects=False)
    fetcher = HttpxFetcher(client, resolver)
    store = InMemorySecretProvider(secrets)
    source = FakeItemSource(items)
    masker = SecretMasker()
    auth = Authenticator(store, HttpxTokenFetcher(fetcher), clock=clock, masker=masker)
    service = FetchService(fetcher, source, auth, clock=clock, platform_allowlist=platform_allowlist)
    return Harness(service, api, store, source, clock, resolver, masker, client)
