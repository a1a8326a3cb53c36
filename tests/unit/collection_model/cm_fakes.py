"""In-memory fakes of collection-model's ports, and ``running``: the service as
``bootstrap.build`` wires it on them.

HTTP is not faked: the service runs on the production HTTP adapter (``AiohttpFetcher`` on
``new_session``), which talks to ``cm_server.FakeApi``, a local aiohttp server. Host names
resolve through ``LocalResolver`` (no DNS): ``*.example.com`` reaches the local server
whatever port the URL names, and the platform allowlist admits loopback, as
``HEADWATER_ALLOW_PRIVATE_HOSTS`` would on a development machine.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cm_server import LOOPBACK, FakeApi, LocalResolver  # type: ignore[import-not-found]

from collection_model.adapters.aiohttp_fetcher import AiohttpFetcher, AiohttpTokenFetcher, new_session
from collection_model.bootstrap import Adapters, Container, build
from collection_model.service_layer.fetch import FetchService
from collection_model.service_layer.ports import DocumentEntry, FetchedDocument, TaskEnd, ToolCall, ToolResult
from collection_model.settings import Settings
from headwater.config import SourceConfig
from headwater.contracts.events import TaskFailed
from headwater.contracts.messages import FetchTask, TaskResult


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


class RecordingSecretLog:
    """The log pipeline's registry: records every value it is asked to mask."""

    def __init__(self) -> None:
        self.registered: list[str] = []

    def register(self, value: str) -> None:
        self.registered.append(value)


class FakeItemSource:
    """An MCP server's tool as the official SDKs answer a returned list: ``structuredContent``
    ``{"result": [...]}`` and one JSON text block per item; ``result`` replaces that answer,
    ``error`` is raised instead (a protocol error, a timeout)."""

    def __init__(self, items: list[dict[str, Any]] | None = None, error: Exception | None = None) -> None:
        self.items = items or []
        self.error = error
        self.result: ToolResult | None = None
        self.calls: list[ToolCall] = []

    async def call_tool(self, call: ToolCall) -> ToolResult:
        self.calls.append(call)
        if self.error:
            raise self.error
        if self.result is not None:
            return self.result
        items = [dict(i) for i in self.items]
        return ToolResult(structured={"result": items}, texts=tuple(json.dumps(i) for i in items))


class FakeConfigSource:
    """Like the planner: versions 1..n of each source, unknown ones raise LookupError."""

    def __init__(self, *configs: SourceConfig) -> None:
        self.versions: dict[str, list[SourceConfig]] = {}
        for config in configs:
            self.versions.setdefault(config.source_id, []).append(config)

    async def get(self, source_id: str, version: int) -> SourceConfig:
        found = self.versions.get(source_id, [])
        if not 1 <= version <= len(found):
            raise LookupError(f"no source {source_id!r} version {version}")
        return found[version - 1]

    async def latest_version(self, source_id: str) -> int:
        if source_id not in self.versions:
            raise LookupError(f"source {source_id!r} not found")
        return len(self.versions[source_id])


@dataclass
class Published:
    task: FetchTask
    key: str
    content: bytes
    content_type: str
    linkage: dict[str, Any]
    documents_in_task: int | None = None
    snapshot_complete: bool | None = None


class FakePublisher:
    """Records what would be published; ``error`` makes every publish fail (a sidecar outage)."""

    def __init__(self) -> None:
        self.documents: list[Published] = []
        self.bulk_calls = 0
        self.results: list[TaskResult] = []
        self.error: Exception | None = None

    async def publish_document(
        self, task: FetchTask, document_key: str, content: bytes, content_type: str, linkage: dict[str, Any]
    ) -> None:
        await self.publish_documents(task, [(document_key, content, content_type, linkage)])

    async def publish_documents(self, task: FetchTask, docs: list[DocumentEntry], end: TaskEnd | None = None) -> None:
        """Like the Dapr adapter: ``end`` goes on the last of ``docs``."""
        if self.error:
            raise self.error
        self.bulk_calls += 1
        published = [Published(task, *doc) for doc in docs]
        if end is not None and published:
            published[-1].documents_in_task, published[-1].snapshot_complete = end.documents, end.complete
        self.documents += published

    async def publish_result(self, result: TaskResult) -> None:
        if self.error:
            raise self.error
        self.results.append(result)

    def keys(self) -> list[str]:
        return sorted(d.key for d in self.documents)


class FakeEventPublisher:
    """Records the domain events that would be published, and how many calls they took;
    ``error`` makes every publish fail (a sidecar outage)."""

    def __init__(self) -> None:
        self.events: list[TaskFailed] = []
        self.calls = 0
        self.error: Exception | None = None

    async def publish_events(self, events: Sequence[TaskFailed]) -> None:
        if self.error:
            raise self.error
        self.calls += 1
        self.events += events


class FakeApiTokens:
    def __init__(self, value: str | None = "test-token") -> None:
        self.value = value

    async def token(self) -> str | None:
        return self.value


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


@dataclass
class Harness:
    """collection-model as ``bootstrap.build`` wires it, on fakes and the local ``api``."""

    container: Container
    api: FakeApi
    secrets: InMemorySecretProvider
    secret_log: RecordingSecretLog
    items: FakeItemSource
    configs: FakeConfigSource
    publisher: FakePublisher
    events: FakeEventPublisher
    tokens: FakeApiTokens
    clock: FakeClock
    resolver: LocalResolver  # the per-hop check's
    connections: LocalResolver  # the session's: one lookup per new connection

    @property
    def service(self) -> FetchService:
        return self.container.fetch


def settings(**overrides: Any) -> Settings:
    return Settings(**{"allow_private_hosts": [LOOPBACK], **overrides})


@asynccontextmanager
async def running(
    api: FakeApi | None = None,
    *,
    items: list[dict[str, Any]] | None = None,
    secrets: dict[str, str] | None = None,
    configs: tuple[SourceConfig, ...] = (),
    table: dict[str, list[str]] | None = None,
    refused: frozenset[str] = frozenset(),
    **overrides: Any,
) -> AsyncIterator[Harness]:
    """Start ``api`` on loopback, build collection-model on it, close both afterwards."""
    api = api or FakeApi()
    port = await api.start()
    check, connect = LocalResolver(table), LocalResolver(table, port, refused)
    fakes = (
        InMemorySecretProvider(secrets),
        RecordingSecretLog(),
        FakeItemSource(items),
        FakeConfigSource(*configs),
        FakePublisher(),
        FakeEventPublisher(),
        FakeApiTokens(),
        FakeClock(),
    )
    store, secret_log, source, config_source, publisher, events, tokens, clock = fakes
    try:
        async with new_session(connect) as session:
            fetcher = AiohttpFetcher(session, check)
            adapters = Adapters(
                http=fetcher,
                oauth=AiohttpTokenFetcher(fetcher),
                secrets=store,
                secret_log=secret_log,
                items=source,
                configs=config_source,
                publisher=publisher,
                events=events,
                clock=clock,
                tokens=tokens,
            )
            container = build(adapters, settings(**overrides))
            yield Harness(container, api, *fakes, resolver=check, connections=connect)
    finally:
        await api.close()
