"""The httpx adapter: SSRF on every hop (and at connect time), redirects, decoded size, time."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cm_fakes import PUBLIC_IP, FakeApi, MapResolver  # type: ignore[import-not-found]

from collection_model.adapters.decoding import BoundedDecoder
from collection_model.adapters.http_fetcher import HttpxFetcher, ShardedTransport, new_client
from collection_model.domain.errors import (
    BlockedAddressError,
    FetchError,
    RedirectError,
    ResponseTooLargeError,
    TransientFetchError,
)
from collection_model.service_layer.ports import HttpResponse

RESOLVER = MapResolver({"internal.example.com": ["10.1.1.1"], "loop.example.com": ["127.0.0.1"]})


async def fetch(api: FakeApi, url: str, **kw: Any) -> HttpResponse:
    args: dict[str, Any] = {
        "headers": {},
        "json_body": None,
        "timeout": 5,
        "max_bytes": 1000,
        "max_redirects": 3,
        "allowlist": [],
    }
    method = kw.pop("method", "GET")
    args.update(kw)
    async with httpx.AsyncClient(transport=api.transport()) as client:
        return await HttpxFetcher(client, RESOLVER).request(method, url, **args)


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"ok": True})


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://loop.example.com/x",
        "http://internal.example.com/x",
        "http://metadata.google.internal/computeMetadata/v1/",
    ],
)
async def test_non_public_hosts_are_refused_before_sending(url: str) -> None:
    api = FakeApi({"/x": ok})
    with pytest.raises(BlockedAddressError):
        await fetch(api, url)
    assert api.requests == []


async def test_the_allowlist_admits_a_private_host() -> None:
    api = FakeApi({"/x": ok})
    assert (await fetch(api, "http://internal.example.com/x", allowlist=["10.0.0.0/8"])).status == 200
    assert (await fetch(api, "http://loop.example.com/x", allowlist=["loop.example.com"])).status == 200


@pytest.mark.parametrize(
    "location", ["http://10.0.0.5/secret", "http://internal.example.com/", "http://[::ffff:7f00:1]/", "/../x"]
)
async def test_a_redirect_to_a_private_address_is_refused(location: str) -> None:
    api = FakeApi({"/start": lambda r: httpx.Response(302, headers={"location": location})})
    if location.startswith("/"):
        assert (await fetch(api, "https://api.example.com/start")).status == 404  # same host: fine
        return
    with pytest.raises(BlockedAddressError):
        await fetch(api, "https://api.example.com/start")
    assert api.paths() == ["/start"]


async def test_a_redirect_to_another_scheme_is_refused() -> None:
    api = FakeApi({"/start": lambda r: httpx.Response(301, headers={"location": "file:///etc/passwd"})})
    with pytest.raises(RedirectError, match="non-http"):
        await fetch(api, "https://api.example.com/start")


async def test_redirects_are_followed_up_to_the_limit() -> None:
    def hop(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params.get("n", "0"))
        return httpx.Response(307, headers={"location": f"/hop?n={n + 1}"}) if n < 3 else httpx.Response(200)

    assert (await fetch(FakeApi({"/hop": hop}), "https://api.example.com/hop", max_redirects=3)).status == 200
    with pytest.raises(RedirectError, match="more than 2 redirects"):
        await fetch(FakeApi({"/hop": hop}), "https://api.example.com/hop", max_redirects=2)


async def test_credentials_stay_behind_when_a_redirect_changes_origin() -> None:
    api = FakeApi(
        {
            "/a": lambda r: httpx.Response(302, headers={"location": "/b"}),
            "/b": lambda r: httpx.Response(303, headers={"location": "https://cdn.example.com/c"}),
            "/c": ok,
        }
    )
    headers = {"Authorization": "Bearer t0ken", "X-API-Key": "k3y", "Accept": "application/json"}
    response = await fetch(
        api,
        "https://api.example.com/a",
        method="POST",
        json_body={"q": 1},
        headers=headers,
        credential_headers=["X-API-Key"],
    )
    assert response.status == 200 and response.url == "https://cdn.example.com/c"
    a, b, c = api.requests
    assert a.method == "POST" and b.method == "GET" and b.content == b""  # 302 after POST, then 303: GET
    assert b.headers["authorization"] == "Bearer t0ken" and b.headers["x-api-key"] == "k3y"  # same origin
    assert (
        "authorization" not in c.headers and "x-api-key" not in c.headers and c.headers["accept"] == "application/json"
    )


def gzip_stream(raw: bytes, encoding: str = "gzip") -> httpx.Response:
    body = gzip.compress(raw) if encoding == "gzip" else zlib.compress(raw)
    return httpx.Response(200, headers={"content-encoding": encoding}, stream=httpx.ByteStream(body))


async def test_the_decoded_size_is_limited_even_when_compressed_small() -> None:
    bomb = FakeApi({"/bomb": lambda r: gzip_stream(b"\0" * 50_000_000)})  # ~50 KB on the wire
    with pytest.raises(ResponseTooLargeError, match="larger than 100000 bytes"):
        await fetch(bomb, "https://api.example.com/bomb", max_bytes=100_000)
    plain = FakeApi({"/big": lambda r: httpx.Response(200, content=b"x" * 5000)})
    with pytest.raises(ResponseTooLargeError):
        await fetch(plain, "https://api.example.com/big", max_bytes=1000)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_compressed_bodies_are_decoded(encoding: str) -> None:
    api = FakeApi({"/z": lambda r: gzip_stream(b"hello " * 100, encoding)})
    response = await fetch(api, "https://api.example.com/z")
    assert response.body == b"hello " * 100 and api.requests[0].headers["accept-encoding"] == "gzip, deflate"


def test_bounded_decoder_handles_raw_deflate_multi_member_gzip_and_refuses_unknown() -> None:
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    data = raw.compress(b"abc" * 10) + raw.flush()
    decoder = BoundedDecoder("deflate", 1000)
    decoder.feed(data)
    assert decoder.finish() == b"abc" * 10
    decoder = BoundedDecoder("gzip", 1000)
    decoder.feed(gzip.compress(b"one ") + gzip.compress(b"two"))
    assert decoder.finish() == b"one two"
    with pytest.raises(FetchError, match="unsupported content-encoding"):
        BoundedDecoder("br", 1000)


async def test_one_deadline_for_the_whole_exchange() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1)
        return httpx.Response(200)

    with pytest.raises(TransientFetchError, match=r"within 0\.05s"):
        await fetch(FakeApi({"/slow": slow}), "https://api.example.com/slow", timeout=0.05)


async def test_repeated_headers_are_joined() -> None:
    def links(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=[("Link", '</a>; rel="prev"'), ("Link", '</b>; rel="next"')])

    response = await fetch(FakeApi({"/l": links}), "https://api.example.com/l")
    assert response.headers["link"] == '</a>; rel="prev", </b>; rel="next"'


async def test_unresolvable_hosts_are_transient() -> None:
    with pytest.raises(TransientFetchError, match="cannot resolve"):
        await fetch(FakeApi(), "https://nowhere.invalid/x")


# --- the real transport: connect-time guard -------------------------------------------------


@pytest.fixture
async def local_server() -> AsyncIterator[int]:
    """A one-route HTTP/1.1 server on 127.0.0.1 (stdlib asyncio)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = gzip.compress(b'{"local": true}')
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body) + body
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def real_fetch(
    url: str, check_time: MapResolver, connect_time: MapResolver, allowlist: list[str]
) -> HttpResponse:
    async with new_client(connect_time) as client:
        return await HttpxFetcher(client, check_time).request(
            "GET", url, headers={}, json_body=None, timeout=5, max_bytes=1000, max_redirects=0, allowlist=allowlist
        )


async def test_guarded_transport_connects_to_checked_addresses(local_server: int) -> None:
    resolver = MapResolver({"local.test": ["127.0.0.1"]})
    response = await real_fetch(f"http://local.test:{local_server}/x", resolver, resolver, ["127.0.0.1"])
    assert response.status == 200 and response.body == b'{"local": true}'  # streamed and gunzipped by us


async def test_dns_rebinding_between_check_and_connect_is_refused(local_server: int) -> None:
    # the per-hop check sees a public address; by connect time the name points at loopback
    check_time = MapResolver({"rebind.test": [PUBLIC_IP]})
    connect_time = MapResolver({"rebind.test": ["127.0.0.1"]})
    with pytest.raises(BlockedAddressError, match=r"127\.0\.0\.1"):
        await real_fetch(f"http://rebind.test:{local_server}/x", check_time, connect_time, [])


async def test_sharded_transport_spreads_requests_and_releases_them() -> None:
    gate = asyncio.Event()
    counts = [0, 0, 0]

    def shard(i: int) -> httpx.MockTransport:
        async def handler(request: httpx.Request) -> httpx.Response:
            counts[i] += 1
            await gate.wait()
            if request.url.path == "/boom":
                raise httpx.ConnectError("down", request=request)
            return httpx.Response(200, stream=httpx.ByteStream(b"x"))  # streamed, as from a socket

        return httpx.MockTransport(handler)

    transport = ShardedTransport([shard(i) for i in range(3)])
    async with httpx.AsyncClient(transport=transport) as client:
        calls = [asyncio.ensure_future(client.get(f"https://a.example.com/{i}")) for i in range(8)]
        boom = asyncio.ensure_future(client.get("https://a.example.com/boom"))
        while sum(counts) < 9:
            await asyncio.sleep(0)
        assert counts == [3, 3, 3] and transport.busy == [3, 3, 3]
        gate.set()
        assert all(r.status_code == 200 for r in await asyncio.gather(*calls))
        with pytest.raises(httpx.ConnectError):
            await boom
    assert transport.busy == [0, 0, 0]
