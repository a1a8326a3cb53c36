"""The httpx implementation of ``HttpClient`` and ``TokenFetcher``.

Redirects are followed by hand so that each hop is checked by the SSRF guard; the body is
streamed and counted after content decoding, so a compressed bomb stops at the limit.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from collection_model.domain.ssrf import check_address
from collection_model.service_layer.fetch import FetchFailedError, ResponseTooLargeError
from collection_model.service_layer.ports import HttpResponse, TransientFetchError

__all__ = ["HttpxFetcher", "HttpxTokenFetcher", "system_resolver"]

Resolver = Callable[[str], Awaitable[list[str]]]


async def system_resolver(host: str) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


class HttpxFetcher:
    def __init__(self, client: httpx.AsyncClient, resolver: Resolver = system_resolver) -> None:
        self._client = client
        self._resolve = resolver

    async def _guard(self, url: str, allowlist: list[str]) -> None:
        host = urlsplit(url).hostname or ""
        try:
            addresses = await self._resolve(host)
        except OSError as exc:
            raise TransientFetchError(f"cannot resolve {host}: {exc}") from None
        check_address(host, addresses, allowlist)

    async def request(self, method: str, url: str, *, headers: dict[str, str], json_body: Any, timeout: float,
                      max_bytes: int, max_redirects: int, allowlist: list[str]) -> HttpResponse:
        current = url
        for _hop in range(max_redirects + 1):
            await self._guard(current, allowlist)
            try:
                request = self._client.build_request(method, current, headers=headers, json=json_body,
                                                     timeout=timeout)
                response = await self._client.send(request, stream=True, follow_redirects=False)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                raise TransientFetchError(f"{type(exc).__name__} for {current.split('?')[0]}") from None
            try:
                if response.is_redirect and "location" in response.headers:
                    nxt = urljoin(current, response.headers["location"])
                    if urlsplit(nxt).scheme not in ("http", "https"):
                        raise FetchFailedError(f"redirect to a non-http URL {nxt.split('?')[0]!r}")
                    current = nxt
                    if response.status_code in (301, 302, 303):
                        method, json_body = "GET", None
                    continue
                body = bytearray()
                try:
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > max_bytes:
                            raise ResponseTooLargeError(f"response from {current.split('?')[0]} is larger than "
                                                        f"{max_bytes} bytes")
                except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                    raise TransientFetchError(f"{type(exc).__name__} while reading {current.split('?')[0]}") from None
                return HttpResponse(response.status_code, {k.lower(): v for k, v in response.headers.items()},
                                    bytes(body), str(response.url))
            finally:
                await response.aclose()
        raise FetchFailedError(f"more than {max_redirects} redirects")


class HttpxTokenFetcher:
    """OAuth2 client credentials (RFC 6749 §4.4)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def client_credentials(self, token_url: str, client_id: str, client_secret: str,
                                 scope: str | None) -> tuple[str, float]:
        data = {"grant_type": "client_credentials"} | ({"scope": scope} if scope else {})
        try:
            response = await self._client.post(token_url, data=data, auth=(client_id, client_secret))
        except httpx.HTTPError as exc:
            raise TransientFetchError(f"token endpoint unreachable ({type(exc).__name__})") from None
        if response.status_code >= 400:
            raise FetchFailedError(f"token endpoint answered HTTP {response.status_code}")
        body = response.json()
        return str(body["access_token"]), float(body.get("expires_in", 3600))
