"""The aiohttp adapter against a local aiohttp server: SSRF at connect time and on redirects,
credential headers on redirects, decoded size, redirect limit. Names resolve through a table."""

from __future__ import annotations

import gzip
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from collection_model.adapters.aiohttp_fetcher import AiohttpFetcher, new_session
from collection_model.domain.errors import BlockedAddressError, RedirectError, ResponseTooLargeError
from collection_model.service_layer.ports import HttpResponse


class TableResolver(AbstractResolver):
    def __init__(self, table: dict[str, str]) -> None:
        self.table = table

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            {
                "hostname": host,
                "host": self.table[host],
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        pass


@pytest.fixture
async def server() -> AsyncIterator[int]:
    seen: list[dict[str, str]] = []

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=gzip.compress(b"x" * 100_000), headers={"content-encoding": "gzip"})

    async def hop(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"/hop?n={int(request.query.get('n', '0')) + 1}")

    async def to_private(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://10.0.0.5/secret")

    async def to_other_origin(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"http://other.test:{request.url.port}/ok")

    async def ok(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.json_response({"ok": True, "headers": dict(request.headers)})

    app = web.Application()
    for path, handler in {
        "/big": big,
        "/hop": hop,
        "/private": to_private,
        "/other": to_other_origin,
        "/ok": ok,
    }.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    await runner.cleanup()


async def call(url: str, allowlist: list[str], **kw: Any) -> HttpResponse:
    resolver = TableResolver({"public.test": "127.0.0.1", "other.test": "127.0.0.1"})
    session = new_session(resolver)
    try:
        args: dict[str, Any] = {
            "headers": {},
            "json_body": None,
            "timeout": 5,
            "max_bytes": 1000,
            "max_redirects": 3,
            "allowlist": allowlist,
        }
        args.update(kw)
        return await AiohttpFetcher(session, resolver).request("GET", url, **args)
    finally:
        await session.close()


async def test_loopback_is_refused_unless_allowlisted(server: int) -> None:
    with pytest.raises(BlockedAddressError):
        await call(f"http://127.0.0.1:{server}/ok", [])
    assert (await call(f"http://127.0.0.1:{server}/ok", ["127.0.0.1"])).status == 200


async def test_a_name_resolving_to_loopback_is_refused(server: int) -> None:
    with pytest.raises(BlockedAddressError, match=r"127\.0\.0\.1"):
        await call(f"http://public.test:{server}/ok", [])


async def test_redirect_to_a_private_address_is_refused(server: int) -> None:
    with pytest.raises(BlockedAddressError, match=r"10\.0\.0\.5"):
        await call(f"http://127.0.0.1:{server}/private", ["127.0.0.1"])


async def test_credentials_are_dropped_on_an_origin_change(server: int) -> None:
    headers = {"Authorization": "Bearer t", "X-API-Key": "k", "X-Plain": "p"}
    response = await call(
        f"http://127.0.0.1:{server}/other", ["127.0.0.1"], headers=headers, credential_headers=["x-api-key"]
    )
    assert response.status == 200 and b"X-Plain" in response.body
    assert b"Bearer t" not in response.body and b"X-API-Key" not in response.body


async def test_decoded_size_limit(server: int) -> None:
    with pytest.raises(ResponseTooLargeError, match="decoded"):
        await call(f"http://127.0.0.1:{server}/big", ["127.0.0.1"])


async def test_redirects_are_followed_up_to_the_limit(server: int) -> None:
    with pytest.raises(RedirectError, match="more than 3 redirects"):
        await call(f"http://127.0.0.1:{server}/hop", ["127.0.0.1"])
