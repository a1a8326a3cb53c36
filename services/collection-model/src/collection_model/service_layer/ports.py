"""collection-model's ports: HTTP fetching, secrets, the OAuth2 token endpoint, the MCP item
source, where documents go, and time.

The HTTP port is one exchange with the platform's limits, not a transport: its adapter
(``adapters.http_fetcher.HttpxFetcher``) takes an ``httpx.AsyncClient`` in its constructor,
and tests give that client an ``httpx.MockTransport``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

__all__ = [
    "Clock",
    "DocumentSink",
    "FetchedDocument",
    "HttpClient",
    "HttpResponse",
    "ItemSource",
    "SecretProvider",
    "SystemClock",
    "TokenFetcher",
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


class ItemSource(Protocol):
    """The MCP tool that lists the items of an iteration (Dapr service invocation in production)."""

    async def list_items(self, app_id: str, tool: str, arguments: dict[str, Any]) -> list[dict[str, Any]]: ...


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


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
