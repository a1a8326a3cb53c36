"""collection-model's ports — every Protocol the service layer depends on: HTTP fetching, the
OAuth2 token endpoint, secrets and the log masker, the MCP item source, source configs,
publishing documents, results and domain events, the operator API token, and time.
``bootstrap.Adapters`` holds one of each.

The HTTP port is one exchange with the platform's limits, not a transport: its adapter
(``adapters.aiohttp_fetcher.AiohttpFetcher``) takes an ``aiohttp.ClientSession`` and a
resolver in its constructor; unit tests run it against a local aiohttp server.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from headwater.config import SourceConfig
from headwater.contracts.events import TaskFailed
from headwater.contracts.messages import FetchTask, TaskResult

__all__ = [
    "ApiTokens",
    "Clock",
    "ConfigSource",
    "DocumentEntry",
    "DocumentSink",
    "EventPublisher",
    "FetchedDocument",
    "HttpClient",
    "HttpResponse",
    "ItemSource",
    "Publisher",
    "SecretLog",
    "SecretProvider",
    "TaskEnd",
    "TokenFetcher",
    "ToolCall",
    "ToolResult",
]


@dataclass(frozen=True)
class HttpResponse:
    """A complete response: the final status after redirects, lower-case headers, the decoded body."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "application/octet-stream").split(";")[0].strip().lower()


class HttpClient(Protocol):
    """One HTTP exchange under the platform's limits."""

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        json_body: Any,
        timeout: float,
        max_bytes: int,
        max_redirects: int,
        allowlist: Collection[str],
        credential_headers: Collection[str] = (),
    ) -> HttpResponse:
        """Send, following up to ``max_redirects`` redirects, each hop's host checked by the SSRF
        guard with ``allowlist``; ``credential_headers`` are dropped when a redirect changes
        origin. Any status is returned (the caller classifies it).

        Raises TransientFetchError (connection, DNS, timeout), BlockedAddressError,
        ResponseTooLargeError (decoded body over ``max_bytes``) or RedirectError.
        """
        ...


class TokenFetcher(Protocol):
    async def client_credentials(
        self, token_url: str, client_id: str, client_secret: str, scope: str | None, *, allowlist: Collection[str] = ()
    ) -> tuple[str, float]:
        """An OAuth2 access token (RFC 6749 §4.4) and its lifetime in seconds.

        Raises TransientFetchError (worth retrying) or CredentialError (refused).
        """
        ...


class SecretProvider(Protocol):
    async def get_secret(self, store: str, key: str) -> str:
        """The secret's current value (read at use time, never cached). Raises LookupError."""
        ...


@dataclass(frozen=True)
class ToolCall:
    """One MCP ``tools/call``: ``server`` is the MCP server's Dapr app id, ``path`` its endpoint."""

    server: str
    tool: str
    arguments: dict[str, Any]
    timeout_seconds: float = 30.0
    path: str = "/mcp"


@dataclass(frozen=True)
class ToolResult:
    """What a tool answered: ``structured`` is its ``structuredContent`` (None when absent),
    ``texts`` its text content blocks in order, ``is_error`` its ``isError``."""

    structured: Any = None
    texts: tuple[str, ...] = ()
    is_error: bool = False


class ItemSource(Protocol):
    """The MCP tool that lists the items of an iteration (an MCP client session over Streamable
    HTTP through Dapr service invocation in production)."""

    async def call_tool(self, call: ToolCall) -> ToolResult:
        """The tool's result, ``isError`` included (the caller judges it). Raises McpCallError
        (``domain.errors``) for a protocol error, an unreachable server or a timeout."""
        ...


@dataclass(frozen=True)
class FetchedDocument:
    """One fetched page, before it becomes a ``raw-documents`` message."""

    document_key: str
    content: bytes
    content_type: str
    linkage: dict[str, Any] = field(default_factory=dict)


class DocumentSink(Protocol):
    async def emit(self, doc: FetchedDocument) -> None: ...


class Clock(Protocol):
    """Time, injectable so tests never really sleep."""

    def now(self) -> datetime:
        """Wall-clock time (UTC), for HTTP dates."""
        ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SecretLog(Protocol):
    """The log pipeline's registry of secret values: anything logged is scrubbed of them."""

    def register(self, value: str) -> None: ...


class ConfigSource(Protocol):
    """Source configs by id and version (the planner, through service invocation)."""

    async def get(self, source_id: str, version: int) -> SourceConfig:
        """That version of the config (immutable once stored). Raises LookupError when unknown."""
        ...

    async def latest_version(self, source_id: str) -> int:
        """The source's current version. Raises LookupError when the source is unknown."""
        ...


DocumentEntry = tuple[str, bytes, str, dict[str, Any]]  # document key, content, content type, linkage


@dataclass(frozen=True)
class TaskEnd:
    """What the last document a task publishes says about the task: how many documents it
    published in all (that one included), and whether every item and page was fetched
    (``RawDocument.documents_in_task`` / ``snapshot_complete``: when a snapshot may delete)."""

    documents: int
    complete: bool


class Publisher(Protocol):
    """``raw-documents`` and ``task-results`` (Dapr pub/sub in production). A failure raises,
    and the work item is redelivered (the worker de-duplicates)."""

    async def publish_document(
        self, task: FetchTask, document_key: str, content: bytes, content_type: str, linkage: dict[str, Any]
    ) -> None: ...

    async def publish_documents(self, task: FetchTask, docs: list[DocumentEntry], end: TaskEnd | None = None) -> None:
        """Many documents of one task in one bulk publish; with ``end``, the last of them is
        the task's last document and carries it."""
        ...

    async def publish_result(self, result: TaskResult) -> None: ...


class EventPublisher(Protocol):
    """Domain events on ``ingestion-events`` (Dapr pub/sub in production), each a CloudEvent of
    the event's type whose id is its idempotency key. A failure raises, and the work item is
    redelivered (subscribers drop the repeats by key)."""

    async def publish_events(self, events: Sequence[TaskFailed]) -> None:
        """Many events in as few calls as possible (bulk)."""
        ...


class ApiTokens(Protocol):
    """The operator API token the upload route checks (settings, else the Dapr secret store)."""

    async def token(self) -> str | None: ...
