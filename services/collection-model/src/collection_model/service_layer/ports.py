"""collection-model's ports: HTTP, secrets, the MCP item source, where documents go."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "DocumentSink",
    "FetchedDocument",
    "HttpClient",
    "HttpResponse",
    "ItemSource",
    "SecretProvider",
    "Sleeper",
    "TokenFetcher",
    "TransientFetchError",
]


class TransientFetchError(Exception):
    """A connection error or timeout: worth retrying."""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    url: str

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "application/octet-stream").split(";")[0].strip()


class HttpClient(Protocol):
    """One HTTP exchange with the platform's limits (the httpx adapter, or a fake)."""

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
        """Raises TransientFetchError, BlockedAddressError or ResponseTooLargeError."""
        ...


class TokenFetcher(Protocol):
    async def client_credentials(
        self, token_url: str, client_id: str, client_secret: str, scope: str | None
    ) -> tuple[str, float]:
        """An OAuth2 access token and its lifetime in seconds."""
        ...


class SecretProvider(Protocol):
    async def get_secret(self, store: str, key: str) -> str: ...


class ItemSource(Protocol):
    """The MCP tool that lists the items of an iteration."""

    async def list_items(self, app_id: str, tool: str, arguments: dict[str, Any]) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class FetchedDocument:
    document_key: str
    content: bytes
    content_type: str
    linkage: dict[str, Any] = field(default_factory=dict)


class DocumentSink(Protocol):
    async def emit(self, doc: FetchedDocument) -> None: ...


class Sleeper(Protocol):
    async def __call__(self, seconds: float) -> None: ...
