"""The aiohttp implementation of the ``HttpClient`` and ``TokenFetcher`` ports — the platform's
one HTTP adapter (``bootstrap.connect`` wires it).

``AiohttpFetcher`` takes a session from ``new_session(resolver)`` and the same resolver, and
adds the platform's limits:

- SSRF: before every hop the host is resolved and checked by ``domain.ssrf.check_address``
  with the request's allowlist (a cloud metadata name is refused without asking DNS).
  Redirects are followed by hand, at most ``max_redirects``, each one re-checked; credential
  headers are dropped when a redirect changes origin. The session's connector checks again
  at connect time (``GuardedResolver``): the addresses checked are the addresses connected
  to, so DNS rebinding between the two is of no use.
- Size: the raw body is streamed and decoded here (``BoundedDecoder``); reading stops as
  soon as the decoded size passes ``max_bytes``.
- Time: one deadline (``timeout``) for the whole exchange, redirects and body included.
"""

from __future__ import annotations

import asyncio
import contextvars
import ipaddress
import json
import socket
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from collection_model.adapters.decoding import ACCEPT_ENCODING, BoundedDecoder
from collection_model.domain.errors import (
    BlockedAddressError,
    CredentialError,
    RedirectError,
    TransientFetchError,
)
from collection_model.domain.retry_policy import is_retryable_status
from collection_model.domain.ssrf import Allowlist, check_address, check_hostname
from collection_model.service_layer.ports import HttpResponse

__all__ = ["AiohttpFetcher", "AiohttpTokenFetcher", "GuardedResolver", "new_session"]

REDIRECTS = frozenset({301, 302, 303, 307, 308})
ALWAYS_PRIVATE = ("authorization", "proxy-authorization", "cookie")
_NOBODY = Allowlist()  # no exception: public addresses only
_allowlist: contextvars.ContextVar[Allowlist] = contextvars.ContextVar("aiohttp_ssrf_allowlist", default=_NOBODY)


class GuardedResolver(AbstractResolver):
    """Resolves, then refuses non-public addresses unless the current request's allowlist admits them."""

    def __init__(self, inner: AbstractResolver) -> None:
        self._inner = inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            ip = ipaddress.ip_address(host.strip("[]"))
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
            check_hostname(host, _allowlist.get())  # a metadata name is refused without asking DNS
            try:
                results = await self._inner.resolve(host, port, family)
            except OSError as exc:
                raise TransientFetchError(f"cannot resolve {host}: {exc}") from None
        check_address(host, [r["host"] for r in results], _allowlist.get())
        return results

    async def close(self) -> None:
        await self._inner.close()


def new_session(resolver: AbstractResolver, limit: int = 500) -> aiohttp.ClientSession:
    """The fetcher's session (open it in the app's lifespan): connections through
    ``GuardedResolver(resolver)``, raw bodies (decoded by us), a bounded pool, no proxies
    from the environment. ``ThreadedResolver()`` in production (``getaddrinfo``)."""
    connector = aiohttp.TCPConnector(
        resolver=GuardedResolver(resolver), limit=limit, limit_per_host=limit, use_dns_cache=False
    )
    return aiohttp.ClientSession(connector=connector, headers={"user-agent": "headwater/0.1"}, auto_decompress=False)


def _shown(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


class AiohttpFetcher:
    def __init__(self, session: aiohttp.ClientSession, resolver: AbstractResolver) -> None:
        """``session`` from ``new_session``; ``resolver`` serves the per-hop check (the session's own)."""
        self._session = session
        self._guard = GuardedResolver(resolver)

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
        form: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        token = _allowlist.set(Allowlist.parse(allowlist))
        try:
            async with asyncio.timeout(timeout):
                return await self._follow(
                    method, url, dict(headers), json_body, form, max_bytes, max_redirects, credential_headers
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
        json_body: Any,
        form: Mapping[str, str] | None,
        max_bytes: int,
        max_redirects: int,
        credential_headers: Collection[str],
    ) -> HttpResponse:
        headers = {"accept-encoding": ACCEPT_ENCODING, **headers}
        for _hop in range(max_redirects + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise RedirectError(f"refusing to fetch a non-http(s) URL {_shown(url)!r}")
            await self._guard.resolve(parts.hostname, parts.port or 0)
            try:
                async with self._session.request(
                    method, url, headers=headers, json=json_body, data=form, allow_redirects=False
                ) as response:
                    location = response.headers.get("location")
                    if response.status not in REDIRECTS or not location:
                        decoder = BoundedDecoder(
                            response.headers.get("content-encoding"), max_bytes, f"the response from {_shown(url)}"
                        )
                        async for chunk in response.content.iter_chunked(64 * 1024):
                            decoder.feed(chunk)
                        found = {k.lower(): ", ".join(response.headers.getall(k)) for k in response.headers}
                        return HttpResponse(response.status, found, decoder.finish(), url)
            except aiohttp.ClientConnectorError as exc:
                if isinstance(exc.os_error, BlockedAddressError):
                    raise exc.os_error from None
                raise TransientFetchError(f"{type(exc).__name__} talking to {_shown(url)}") from None
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientOSError) as exc:
                raise TransientFetchError(f"{type(exc).__name__} talking to {_shown(url)}") from None
            target = urljoin(url, location.strip())
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, json_body, form = "GET", None, None
            if _origin(target) != _origin(url):
                private = {h.lower() for h in (*ALWAYS_PRIVATE, *credential_headers)}
                headers = {k: v for k, v in headers.items() if k.lower() not in private}
            url = target
        raise RedirectError(f"more than {max_redirects} redirects")


class AiohttpTokenFetcher:
    """OAuth2 client credentials (RFC 6749 §4.4, client authentication by HTTP Basic); the token
    URL passes the same SSRF guard, size and time limits as any fetch."""

    def __init__(self, fetcher: AiohttpFetcher, timeout: float = 30.0) -> None:
        self._fetcher = fetcher
        self._timeout = timeout

    async def client_credentials(
        self, token_url: str, client_id: str, client_secret: str, scope: str | None, *, allowlist: Collection[str] = ()
    ) -> tuple[str, float]:
        auth = aiohttp.BasicAuth(client_id, client_secret).encode()
        response = await self._fetcher.request(
            "POST",
            token_url,
            headers={"authorization": auth, "accept": "application/json"},
            json_body=None,
            form={"grant_type": "client_credentials"} | ({"scope": scope} if scope else {}),
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
            return str(body["access_token"]), float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise CredentialError(f"token endpoint {where} answered without an access_token") from None
