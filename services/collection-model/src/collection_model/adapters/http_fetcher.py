"""The aiohttp implementation of ``HttpClient`` and ``TokenFetcher``.

aiohttp rather than httpx here: at 50 concurrent requests httpx 0.28's connection pool
managed ~100 requests/s on these machines where aiohttp managed ~460 (bench/bench_fanout.py).

SSRF: every new connection's host is resolved by ``GuardedResolver``, which applies the
guard to the addresses it returns — the addresses checked are the ones connected to, so DNS
rebinding between check and connect is not possible. Redirects are followed by hand (each
hop's URL is re-checked the same way); the body is read in chunks after content decoding and
stops at the size limit.
"""

from __future__ import annotations

import contextvars
import ipaddress
import socket
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from collection_model.domain.ssrf import BlockedAddressError, check_address
from collection_model.service_layer.fetch import FetchFailedError, ResponseTooLargeError
from collection_model.service_layer.ports import HttpResponse, TransientFetchError

__all__ = ["AiohttpFetcher", "AiohttpTokenFetcher", "GuardedResolver", "new_session"]

_allowlist: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("ssrf_allowlist", default=())


class GuardedResolver(AbstractResolver):
    """Resolves, then refuses non-public addresses unless the current request's allowlist admits them."""

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner or ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            ip = ipaddress.ip_address(host)
            results: list[ResolveResult] = [
                {
                    "hostname": host,
                    "host": str(ip),
                    "port": port,
                    "family": socket.AF_INET6 if ip.version == 6 else socket.AF_INET,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            ]
        except ValueError:
            try:
                results = await self._inner.resolve(host, port, family)
            except OSError as exc:
                raise TransientFetchError(f"cannot resolve {host}: {exc}") from None
        check_address(host, [r["host"] for r in results], _allowlist.get())
        return results

    async def close(self) -> None:
        await self._inner.close()


def new_session(resolver: AbstractResolver | None = None, limit: int = 200) -> aiohttp.ClientSession:
    """The fetcher's session: guarded resolution, no automatic redirects, bounded pool."""
    connector = aiohttp.TCPConnector(
        resolver=GuardedResolver(resolver), limit=limit, limit_per_host=limit, use_dns_cache=False
    )
    return aiohttp.ClientSession(connector=connector, headers={"user-agent": "headwater/0.1"}, auto_decompress=True)


class AiohttpFetcher:
    """Checks each hop's host with the request's allowlist before sending (a pooled keep-alive
    connection opened for another source must not bypass this source's policy); new connections
    are checked again at connect time by the session's ``GuardedResolver``."""

    def __init__(self, session: aiohttp.ClientSession, resolver: AbstractResolver | None = None) -> None:
        self._session = session
        self._guard = GuardedResolver(resolver)

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
        token = _allowlist.set(tuple(allowlist))
        try:
            return await self._request(method, url, headers, json_body, timeout, max_bytes, max_redirects)
        finally:
            _allowlist.reset(token)

    async def _request(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        json_body: Any,
        timeout: float,
        max_bytes: int,
        max_redirects: int,
    ) -> HttpResponse:
        current = url
        for _hop in range(max_redirects + 1):
            short = current.split("?")[0]
            await self._guard.resolve(urlsplit(current).hostname or "", urlsplit(current).port or 0)
            try:
                async with self._session.request(
                    method,
                    current,
                    headers=headers,
                    json=json_body,
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=timeout),
                ) as response:
                    if response.status in (301, 302, 303, 307, 308) and "location" in response.headers:
                        nxt = urljoin(current, response.headers["location"])
                        if urlsplit(nxt).scheme not in ("http", "https"):
                            raise FetchFailedError(f"redirect to a non-http URL {nxt.split('?')[0]!r}")
                        if response.status in (301, 302, 303):
                            method, json_body = "GET", None
                        current = nxt
                        continue
                    body = bytearray()
                    async for chunk in response.content.iter_chunked(64 * 1024):
                        body += chunk
                        if len(body) > max_bytes:
                            raise ResponseTooLargeError(f"response from {short} is larger than {max_bytes} bytes")
                    return HttpResponse(
                        response.status,
                        {k.lower(): v for k, v in response.headers.items()},
                        bytes(body),
                        str(response.url),
                    )
            except aiohttp.ClientConnectorError as exc:
                if isinstance(exc.__cause__, BlockedAddressError) or isinstance(exc.os_error, BlockedAddressError):
                    raise exc.os_error from None
                raise TransientFetchError(f"{type(exc).__name__} for {short}") from None
            except (
                TimeoutError,
                aiohttp.ServerDisconnectedError,
                aiohttp.ClientPayloadError,
                aiohttp.ClientOSError,
            ) as exc:
                raise TransientFetchError(f"{type(exc).__name__} for {short}") from None
        raise FetchFailedError(f"more than {max_redirects} redirects")


class AiohttpTokenFetcher:
    """OAuth2 client credentials (RFC 6749 §4.4); the token URL passes the same SSRF guard."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def client_credentials(
        self, token_url: str, client_id: str, client_secret: str, scope: str | None
    ) -> tuple[str, float]:
        data = {"grant_type": "client_credentials"} | ({"scope": scope} if scope else {})
        try:
            async with self._session.post(
                token_url,
                data=data,
                auth=aiohttp.BasicAuth(client_id, client_secret),
                timeout=aiohttp.ClientTimeout(total=30),
            ) as response:
                if response.status >= 400:
                    raise FetchFailedError(f"token endpoint answered HTTP {response.status}")
                body = await response.json(content_type=None)
        except aiohttp.ClientError as exc:
            raise TransientFetchError(f"token endpoint unreachable ({type(exc).__name__})") from None
        return str(body["access_token"]), float(body.get("expires_in", 3600))
