"""The httpx implementation of the ``HttpClient`` and ``TokenFetcher`` ports.

``HttpxFetcher`` takes an ``httpx.AsyncClient`` (``new_client()`` in production, a client on
an ``httpx.MockTransport`` in tests) and adds the platform's limits:

- SSRF: before every hop the host is resolved (``loop.getaddrinfo``) and checked by
  ``domain.ssrf.check_address`` with the request's allowlist. Redirects are followed by hand
  (``follow_redirects=False``), at most ``max_redirects``, each one re-checked; credential
  headers are dropped when a redirect changes origin. ``new_client()`` also checks at
  connect time (``GuardedNetworkBackend``): the addresses checked are the addresses
  connected to, so DNS rebinding between the two is of no use.
- Size: the raw body is streamed and decoded here (``BoundedDecoder``); reading stops as
  soon as the decoded size passes ``max_bytes``.
- Time: one deadline (``timeout``) for the whole exchange, redirects and body included.

``new_client()`` spreads connections over a few small pools (``ShardedTransport``): one
large httpcore pool is CPU-bound at ~50 requests in flight.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import ipaddress
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import httpcore
import httpx

# The aiohttp implementation is re-exported while entrypoints/app.py still wires it.
from collection_model.adapters.aiohttp_fetcher import AiohttpFetcher, AiohttpTokenFetcher, new_session
from collection_model.adapters.decoding import ACCEPT_ENCODING, BoundedDecoder
from collection_model.domain.errors import (
    CredentialError,
    RedirectError,
    ResponseTooLargeError,
    TransientFetchError,
)
from collection_model.domain.retry_policy import is_retryable_status
from collection_model.domain.ssrf import Allowlist, check_address, check_hostname
from collection_model.service_layer.ports import HttpResponse

__all__ = [
    "AiohttpFetcher",
    "AiohttpTokenFetcher",
    "GuardedNetworkBackend",
    "HttpxFetcher",
    "HttpxTokenFetcher",
    "Resolver",
    "ShardedTransport",
    "getaddrinfo_resolver",
    "guarded_transport",
    "new_client",
    "new_session",
]

Resolver = Callable[[str, int], Awaitable[list[str]]]
REDIRECTS = frozenset({301, 302, 303, 307, 308})
ALWAYS_PRIVATE = ("authorization", "proxy-authorization", "cookie")
_NOBODY = Allowlist()  # no exception: public addresses only
_allowlist: contextvars.ContextVar[Allowlist] = contextvars.ContextVar("ssrf_allowlist", default=_NOBODY)


async def getaddrinfo_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the event loop's ``getaddrinfo``, in a thread)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TransientFetchError(f"cannot resolve {host}: {exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def _resolve_checked(resolver: Resolver, host: str, port: int, rules: Allowlist) -> list[str]:
    try:
        ips = [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        check_hostname(host, rules)  # a metadata name is refused without asking DNS
        ips = await resolver(host, port)
    return check_address(host, ips, rules)


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the SSRF guard at connect time: resolve, check (with the
    allowlist of the request being sent), then connect to one of exactly those addresses."""

    def __init__(self, resolver: Resolver = getaddrinfo_resolver, inner: httpcore.AsyncNetworkBackend | None = None):
        self._resolver = resolver
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await _resolve_checked(self._resolver, host, port, _allowlist.get())
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not reachable from the fetcher")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_transport(
    resolver: Resolver = getaddrinfo_resolver, *, max_connections: int = 200, verify: bool = True
) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose connections pass the SSRF guard when they are opened."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False, verify=verify)
    # httpx offers no public hook for httpcore's network backend, so the pool is replaced by
    # an equivalent one with the guarded backend (test_http_fetcher pins this behaviour).
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=GuardedNetworkBackend(resolver),
    )
    return transport


class ShardedTransport(httpx.AsyncBaseTransport):
    """Several small connection pools instead of one large one, the least busy first.

    httpcore 1.0's pool scans every connection for every queued request on each change, so
    one pool with 50 connections spends its time there: 50 requests in flight reached
    ~230 requests/s on 2 CPUs, 8 pools ~3-6 times that (``bench/bench_fetch.py``).
    """

    def __init__(self, shards: Sequence[httpx.AsyncBaseTransport]) -> None:
        self._shards = list(shards)
        self._busy = [0] * len(self._shards)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = min(range(len(self._shards)), key=self._busy.__getitem__)
        self._busy[index] += 1
        try:
            response = await self._shards[index].handle_async_request(request)
        except BaseException:
            self._busy[index] -= 1
            raise
        response.stream = _Released(response.stream, lambda: self._release(index))
        return response

    def _release(self, index: int) -> None:
        self._busy[index] -= 1

    @property
    def busy(self) -> list[int]:
        return list(self._busy)

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()


class _Released(httpx.AsyncByteStream):
    """A response stream that reports, once, when it is closed."""

    def __init__(self, inner: Any, on_close: Callable[[], None]) -> None:
        self._inner = inner
        self._on_close: Callable[[], None] | None = on_close

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            on_close, self._on_close = self._on_close, None
            if on_close is not None:
                on_close()


def new_client(
    resolver: Resolver = getaddrinfo_resolver, *, max_connections: int = 200, shards: int = 8
) -> httpx.AsyncClient:
    """The fetcher's client (create it in the app's lifespan): guarded connections in
    ``shards`` pools, no automatic redirects, no proxies from the environment."""
    per_shard = max(1, -(-max_connections // shards))
    transport = ShardedTransport([guarded_transport(resolver, max_connections=per_shard) for _ in range(shards)])
    return httpx.AsyncClient(
        transport=transport, follow_redirects=False, trust_env=False, headers={"user-agent": "headwater/0.1"}
    )


def _shown(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


class HttpxFetcher:
    def __init__(self, client: httpx.AsyncClient, resolver: Resolver = getaddrinfo_resolver) -> None:
        """``client`` must not follow redirects itself; ``resolver`` serves the per-hop check."""
        self._client = client
        self._resolver = resolver

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
        content = None
        if json_body is not None:
            content = json.dumps(json_body).encode()
            headers = {"content-type": "application/json", **headers}
        return await self.exchange(
            method,
            url,
            headers=headers,
            content=content,
            timeout=timeout,
            max_bytes=max_bytes,
            max_redirects=max_redirects,
            allowlist=allowlist,
            credential_headers=credential_headers,
        )

    async def exchange(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        content: bytes | None,
        timeout: float,
        max_bytes: int,
        max_redirects: int,
        allowlist: Collection[str],
        credential_headers: Collection[str] = (),
    ) -> HttpResponse:
        """``request`` with a raw body (the token fetcher posts a form)."""
        rules = Allowlist.parse(allowlist)
        token = _allowlist.set(rules)
        try:
            async with asyncio.timeout(timeout):
                return await self._follow(
                    method, url, dict(headers), content, timeout, max_bytes, max_redirects, rules, credential_headers
                )
        except TimeoutError:
            raise TransientFetchError(f"no complete response from {_shown(url)} within {timeout:g}s") from None
        finally:
            _allowlist.reset(token)

    async def _follow(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
        timeout: float,
        max_bytes: int,
        max_redirects: int,
        rules: Allowlist,
        credential_headers: Collection[str],
    ) -> HttpResponse:
        headers = {"accept-encoding": ACCEPT_ENCODING, **headers}
        for _hop in range(max_redirects + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise RedirectError(f"refusing to fetch a non-http(s) URL {_shown(url)!r}")
            await _resolve_checked(self._resolver, parts.hostname, parts.port or 0, rules)
            request = self._client.build_request(
                method, url, headers=headers, content=content, timeout=httpx.Timeout(timeout)
            )
            try:
                response = await self._client.send(request, stream=True, follow_redirects=False)
            except httpx.TimeoutException:
                raise TransientFetchError(f"timed out talking to {_shown(url)}") from None
            except httpx.TransportError as exc:
                raise TransientFetchError(f"{type(exc).__name__} talking to {_shown(url)}") from None
            try:
                location = response.headers.get("location")
                if response.status_code not in REDIRECTS or not location:
                    body = await self._read(response, max_bytes, url)
                    found = {key: ", ".join(response.headers.get_list(key)) for key in response.headers}
                    return HttpResponse(response.status_code, found, body, url)
            finally:
                await response.aclose()
            target = urljoin(url, location.strip())
            if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                method, content = "GET", None
                headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
            if _origin(target) != _origin(url):
                private = {h.lower() for h in (*ALWAYS_PRIVATE, *credential_headers)}
                headers = {k: v for k, v in headers.items() if k.lower() not in private}
            url = target
        raise RedirectError(f"more than {max_redirects} redirects")

    async def _read(self, response: httpx.Response, max_bytes: int, url: str) -> bytes:
        where = f"the response from {_shown(url)}"
        encoding = response.headers.get("content-encoding")
        length = response.headers.get("content-length", "")
        if not encoding and length.isdigit() and int(length) > max_bytes:
            raise ResponseTooLargeError(f"{where} is larger than {max_bytes} bytes (content-length {length})")
        if response.is_stream_consumed:  # built in memory (MockTransport): already decoded by httpx
            decoder = BoundedDecoder(None, max_bytes, where)
            decoder.feed(response.content)
            return decoder.finish()
        decoder = BoundedDecoder(encoding, max_bytes, where)
        try:
            async for chunk in response.aiter_raw():
                decoder.feed(chunk)
        except httpx.TimeoutException:
            raise TransientFetchError(f"timed out reading {where}") from None
        except httpx.TransportError as exc:
            raise TransientFetchError(f"{type(exc).__name__} reading {where}") from None
        return decoder.finish()


class HttpxTokenFetcher:
    """OAuth2 client credentials (RFC 6749 §4.4, client authentication by HTTP Basic); the token
    URL passes the same SSRF guard, size and time limits as any fetch."""

    def __init__(self, fetcher: HttpxFetcher, timeout: float = 30.0) -> None:
        self._fetcher = fetcher
        self._timeout = timeout

    async def client_credentials(
        self, token_url: str, client_id: str, client_secret: str, scope: str | None, *, allowlist: Collection[str] = ()
    ) -> tuple[str, float]:
        form = {"grant_type": "client_credentials"} | ({"scope": scope} if scope else {})
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")
        response = await self._fetcher.exchange(
            "POST",
            token_url,
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "accept": "application/json",
                "authorization": f"Basic {basic}",
            },
            content=urlencode(form).encode(),
            timeout=self._timeout,
            max_bytes=1024 * 1024,
            max_redirects=0,
            allowlist=allowlist,
        )
        where = _shown(token_url)
        if is_retryable_status(response.status):
            raise TransientFetchError(f"token endpoint {where} answered HTTP {response.status}")
        if response.status >= 300:
            raise CredentialError(f"token endpoint {where} refused the client (HTTP {response.status})")
        try:
            body = json.loads(response.body)
            token, lifetime = str(body["access_token"]), float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise CredentialError(f"token endpoint {where} answered without an access_token") from None
        return token, lifetime
