"""The aiohttp adapter against a local aiohttp server: SSRF on every hop and at connect time,
redirects, credential headers, decoded size, time. Names resolve through a table (no DNS)."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from typing import Any

import pytest
from aiohttp import web
from cm_server import LOOPBACK, PUBLIC_IP, FakeApi, LocalResolver, Seen, drop  # type: ignore[import-not-found]
from multidict import CIMultiDict

from collection_model.adapters.aiohttp_fetcher import AiohttpFetcher, new_session
from collection_model.domain.errors import (
    BlockedAddressError,
    RedirectError,
    ResponseTooLargeError,
    TransientFetchError,
)
from collection_model.service_layer.ports import HttpResponse

TABLE = {"internal.example.com": ["10.1.1.1"], "loop.example.com": [LOOPBACK]}
API = ["api.example.com"]  # admits the fake API's name (it resolves to loopback), nothing else


async def fetch(
    api: FakeApi,
    url: str,
    *,
    check: LocalResolver | None = None,
    connect: LocalResolver | None = None,
    method: str = "GET",
    **kw: Any,
) -> HttpResponse:
    """One exchange through a fresh session; ``check`` serves the per-hop check, ``connect`` the
    connections (every connection lands on ``api``)."""
    args: dict[str, Any] = {
        "headers": {},
        "json_body": None,
        "timeout": 5,
        "max_bytes": 1000,
        "max_redirects": 3,
        "allowlist": [],
    }
    args.update(kw)
    check = check or LocalResolver(TABLE)
    async with new_session(connect or LocalResolver(check.table, api.port)) as session:
        return await AiohttpFetcher(session, check).request(method, url, **args)


def ok(request: Seen) -> web.Response:
    return web.json_response({"ok": True})


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://loop.example.com/x",
        "http://internal.example.com/x",
        "http://metadata.google.internal/computeMetadata/v1/",  # refused without asking DNS
    ],
)
async def test_non_public_hosts_are_refused_before_sending(api: FakeApi, url: str) -> None:
    api.routes["/x"] = ok
    check = LocalResolver(TABLE)
    with pytest.raises(BlockedAddressError):
        await fetch(api, url, check=check)
    assert api.requests == [] and "metadata.google.internal" not in check.calls


@pytest.mark.parametrize("allowlist", [["loop.example.com"], ["127.0.0.0/8"], ["127.0.0.1"]])
async def test_the_allowlist_admits_a_private_host(api: FakeApi, allowlist: list[str]) -> None:
    api.routes["/x"] = ok
    assert (await fetch(api, "http://loop.example.com/x", allowlist=allowlist)).status == 200


@pytest.mark.parametrize(
    "location", ["http://10.0.0.5/secret", "http://internal.example.com/", "http://[::ffff:7f00:1]/", "/../x"]
)
async def test_a_redirect_to_a_private_address_is_refused(api: FakeApi, location: str) -> None:
    api.routes["/start"] = lambda r: web.Response(status=302, headers={"location": location})
    if location.startswith("/"):
        assert (await fetch(api, "http://api.example.com/start", allowlist=API)).status == 404  # same host
        return
    with pytest.raises(BlockedAddressError):
        await fetch(api, "http://api.example.com/start", allowlist=API)
    assert api.paths() == ["/start"]


async def test_a_redirect_to_another_scheme_is_refused(api: FakeApi) -> None:
    api.routes["/start"] = lambda r: web.Response(status=301, headers={"location": "file:///etc/passwd"})
    with pytest.raises(RedirectError, match="non-http"):
        await fetch(api, "http://api.example.com/start", allowlist=API)


async def test_redirects_are_followed_up_to_the_limit(api: FakeApi) -> None:
    def hop(request: Seen) -> web.Response:
        n = int(request.query.get("n", "0"))
        return web.Response(status=307, headers={"location": f"/hop?n={n + 1}"}) if n < 3 else web.Response()

    api.routes["/hop"] = hop
    assert (await fetch(api, "http://api.example.com/hop", allowlist=API, max_redirects=3)).status == 200
    with pytest.raises(RedirectError, match="more than 2 redirects"):
        await fetch(api, "http://api.example.com/hop", allowlist=API, max_redirects=2)


async def test_credentials_stay_behind_when_a_redirect_changes_origin(api: FakeApi) -> None:
    api.routes.update(
        {
            "/a": lambda r: web.Response(status=302, headers={"location": "/b"}),
            "/b": lambda r: web.Response(status=303, headers={"location": "http://cdn.example.com/c"}),
            "/c": ok,
        }
    )
    headers = {"Authorization": "Bearer t0ken", "X-API-Key": "k3y", "Accept": "application/json"}
    response = await fetch(
        api,
        "http://api.example.com/a",
        method="POST",
        json_body={"q": 1},
        headers=headers,
        credential_headers=["X-API-Key"],
        allowlist=[*API, "cdn.example.com"],
    )
    assert response.status == 200 and response.url == "http://cdn.example.com/c"
    a, b, c = api.requests
    assert a.method == "POST" and a.body == b'{"q": 1}' and a.headers["content-type"] == "application/json"
    assert b.method == "GET" and b.body == b"" and "content-type" not in b.headers  # 302 after POST: GET
    assert b.headers["authorization"] == "Bearer t0ken" and b.headers["x-api-key"] == "k3y"  # same origin
    assert "authorization" not in c.headers and "x-api-key" not in c.headers
    assert c.headers["accept"] == "application/json" and c.headers["host"] == "cdn.example.com"


def compressed(raw: bytes, encoding: str = "gzip") -> web.Response:
    body = gzip.compress(raw) if encoding == "gzip" else zlib.compress(raw)
    return web.Response(body=body, headers={"content-encoding": encoding})


async def test_the_decoded_size_is_limited_even_when_compressed_small(api: FakeApi) -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)  # ~50 KB on the wire
    api.routes["/bomb"] = lambda r: web.Response(body=bomb, headers={"content-encoding": "gzip"})
    api.routes["/big"] = lambda r: web.Response(body=b"x" * 5000)
    with pytest.raises(ResponseTooLargeError, match=r"larger than 100000 bytes \(decoded\)"):
        await fetch(api, "http://api.example.com/bomb", allowlist=API, max_bytes=100_000)
    with pytest.raises(ResponseTooLargeError):
        await fetch(api, "http://api.example.com/big", allowlist=API, max_bytes=1000)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_compressed_bodies_are_decoded(api: FakeApi, encoding: str) -> None:
    api.routes["/z"] = lambda r: compressed(b"hello " * 100, encoding)
    response = await fetch(api, "http://api.example.com/z", allowlist=API)
    assert response.body == b"hello " * 100 and api.requests[0].headers["accept-encoding"] == "gzip, deflate"


async def test_one_deadline_for_the_whole_exchange(api: FakeApi) -> None:
    async def slow(request: Seen) -> web.Response:
        await asyncio.sleep(1)
        return web.Response()

    api.routes["/slow"] = slow
    with pytest.raises(TransientFetchError, match=r"within 0\.05s"):
        await fetch(api, "http://api.example.com/slow", allowlist=API, timeout=0.05)


async def test_repeated_headers_are_joined(api: FakeApi) -> None:
    links = CIMultiDict([("Link", '</a>; rel="prev"'), ("Link", '</b>; rel="next"')])
    api.routes["/l"] = lambda r: web.Response(headers=links)
    response = await fetch(api, "http://api.example.com/l", allowlist=API)
    assert response.headers["link"] == '</a>; rel="prev", </b>; rel="next"'


async def test_unresolvable_hosts_are_transient(api: FakeApi) -> None:
    with pytest.raises(TransientFetchError, match="cannot resolve"):
        await fetch(api, "http://nowhere.invalid/x")


async def test_a_refused_connection_is_transient(api: FakeApi) -> None:
    connect = LocalResolver(TABLE, api.port, refused=frozenset({"down.example.com"}))
    with pytest.raises(TransientFetchError, match=r"talking to http://down\.example\.com/x$"):
        await fetch(api, "http://down.example.com/x?key=secret", allowlist=[LOOPBACK], connect=connect)


async def test_a_dropped_connection_is_transient(api: FakeApi) -> None:
    api.routes["/x"] = drop  # the server closes the connection without answering
    with pytest.raises(TransientFetchError, match="ServerDisconnectedError"):
        await fetch(api, "http://api.example.com/x", allowlist=API)


# --- connect time: the addresses checked are the addresses connected to ----------------------


async def test_connections_go_to_the_checked_addresses(api: FakeApi) -> None:
    api.routes["/x"] = lambda r: compressed(b'{"local": true}')
    resolver = LocalResolver({"local.test": [LOOPBACK]})
    connect = LocalResolver({"local.test": [LOOPBACK]}, api.port)
    response = await fetch(api, "http://local.test/x", check=resolver, connect=connect, allowlist=[LOOPBACK])
    assert response.status == 200 and response.body == b'{"local": true}'  # streamed and gunzipped by us
    assert resolver.calls == ["local.test"] and connect.calls == ["local.test"]


async def test_dns_rebinding_between_check_and_connect_is_refused(api: FakeApi) -> None:
    api.routes["/x"] = ok
    # the per-hop check sees a public address; by connect time the name points at loopback
    check_time = LocalResolver({"rebind.test": [PUBLIC_IP]})
    connect_time = LocalResolver({"rebind.test": [LOOPBACK]}, api.port)
    with pytest.raises(BlockedAddressError, match=r"127\.0\.0\.1"):
        await fetch(api, "http://rebind.test/x", check=check_time, connect=connect_time)
    assert api.requests == []


async def test_a_literal_loopback_address_is_refused_unless_allowlisted(api: FakeApi) -> None:
    api.routes["/ok"] = ok
    with pytest.raises(BlockedAddressError):
        await fetch(api, f"http://127.0.0.1:{api.port}/ok")
    assert (await fetch(api, f"http://127.0.0.1:{api.port}/ok", allowlist=[LOOPBACK])).status == 200
