"""The aiohttp adapter against a local aiohttp server: SSRF at connect time and on redirects,
size limits, redirect limits. Host names are mapped by a fake resolver."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from collection_model.adapters.http_fetcher import AiohttpFetcher, new_session
from collection_model.domain.ssrf import BlockedAddressError
from collection_model.service_layer.fetch import FetchFailedError, ResponseTooLargeError


class MapResolver(AbstractResolver):
    """public.example.com pretends to be public but lives on loopback (only for these tests)."""

    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            {
                "hostname": host,
                "host": self.mapping[host],
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
    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 5000)

    async def hop(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"/hop?n={int(request.query.get('n', '0')) + 1}")

    async def to_private(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://10.0.0.5/secret")

    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/big", big)
    app.router.add_get("/hop", hop)
    app.router.add_get("/private", to_private)
    app.router.add_get("/ok", ok)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    await runner.cleanup()


async def call(url: str, allowlist: list[str], **kw: object) -> object:
    resolver = MapResolver({"public.example.com": "127.0.0.1", "internal.example.com": "10.0.0.5"})
    session = new_session(resolver)
    try:
        args: dict[str, object] = {
            "headers": {},
            "json_body": None,
            "timeout": 5,
            "max_bytes": 1000,
            "max_redirects": 3,
            "allowlist": allowlist,
        }
        args.update(kw)
        return await AiohttpFetcher(session, resolver).request("GET", url, **args)  # type: ignore[arg-type]
    finally:
        await session.close()


async def test_loopback_is_refused_unless_allowlisted(server: int) -> None:
    with pytest.raises(BlockedAddressError):
        await call(f"http://127.0.0.1:{server}/ok", [])
    response = await call(f"http://127.0.0.1:{server}/ok", ["127.0.0.1"])
    assert response.status == 200  # type: ignore[attr-defined]


async def test_a_name_resolving_to_loopback_is_refused(server: int) -> None:
    with pytest.raises(BlockedAddressError, match=r"127\.0\.0\.1"):
        await call(f"http://public.example.com:{server}/ok", [])


async def test_redirect_to_a_private_address_is_refused(server: int) -> None:
    with pytest.raises(BlockedAddressError, match=r"10\.0\.0\.5"):
        await call(f"http://127.0.0.1:{server}/private", ["127.0.0.1"])


async def test_decoded_size_limit(server: int) -> None:
    with pytest.raises(ResponseTooLargeError):
        await call(f"http://127.0.0.1:{server}/big", ["127.0.0.1"])


async def test_redirects_are_followed_up_to_the_limit(server: int) -> None:
    with pytest.raises(FetchFailedError, match="more than 3 redirects"):
        await call(f"http://127.0.0.1:{server}/hop", ["127.0.0.1"])
