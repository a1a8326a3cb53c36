"""A fake remote API: an aiohttp server on 127.0.0.1, and a resolver that sends names to it.

The fetcher under test is the production one (``AiohttpFetcher`` on ``new_session``); only
DNS is replaced (``LocalResolver``), so every request really crosses a socket.
"""

from __future__ import annotations

import asyncio
import inspect
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDictProxy, MultiDictProxy

__all__ = ["LOOPBACK", "PUBLIC_IP", "FakeApi", "LocalResolver", "Seen", "closed_port", "drop"]

PUBLIC_IP = "93.184.216.34"
LOOPBACK = "127.0.0.1"


def closed_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


class LocalResolver(AbstractResolver):
    """DNS from a table; ``*.example.com`` is loopback; other names do not resolve.

    With ``port`` set, every answer carries it, so a connection reaches the local server
    whatever port the URL names; the names in ``refused`` answer a closed port instead.
    Only loopback is ever connected to: give a non-loopback address to check-time resolvers.
    """

    def __init__(
        self, table: dict[str, list[str]] | None = None, port: int | None = None, refused: frozenset[str] = frozenset()
    ) -> None:
        self.table = table or {}
        self.port = port
        self.refused = refused
        self.calls: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.calls.append(host)
        ips = self.table.get(host) or ([LOOPBACK] if host.endswith(".example.com") else None)
        if ips is None:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} is not in the table")
        answer = closed_port() if host in self.refused else (self.port or port)
        return [
            {
                "hostname": host,
                "host": ip,
                "port": answer,
                "family": socket.AF_INET6 if ":" in ip else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for ip in ips
        ]

    async def close(self) -> None:
        pass


@dataclass(frozen=True)
class Seen:
    """A request as the fake API received it."""

    method: str
    path: str
    query: MultiDictProxy[str]
    query_string: str
    headers: CIMultiDictProxy[str]
    body: bytes


Handler = Callable[[Seen], web.StreamResponse | Awaitable[web.StreamResponse]]


def drop(seen: Seen) -> web.StreamResponse:
    """A route that closes the connection without answering (the client sees a disconnect)."""
    raise _Drop


class _Drop(Exception):
    pass


@dataclass
class FakeApi:
    """Routes by path (``"/v1/data"``) or by ``"METHOD /path"``; counts requests in flight."""

    routes: dict[str, Handler] = field(default_factory=dict)
    delay: float = 0.0
    requests: list[Seen] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    limit: int | None = None  # when set, exceeding it is recorded as a violation
    violations: int = 0
    port: int = 0
    _runner: web.AppRunner | None = None

    async def start(self) -> int:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOOPBACK, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.port

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        seen = Seen(request.method, request.path, request.query, request.query_string, request.headers, body)
        self.requests.append(seen)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if self.limit is not None and self.in_flight > self.limit:
            self.violations += 1
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            handler = self.routes.get(f"{seen.method} {seen.path}") or self.routes.get(seen.path)
            if handler is None:
                return web.json_response({"error": "no such route"}, status=404)
            result = handler(seen)
            return await result if inspect.isawaitable(result) else result
        except _Drop:
            assert request.transport is not None
            request.transport.close()
            raise asyncio.CancelledError from None
        finally:
            self.in_flight -= 1

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]
