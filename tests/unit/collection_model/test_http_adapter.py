"""The httpx adapter against httpx.MockTransport: redirects re-checked, size limits."""

from __future__ import annotations

import httpx
import pytest

from collection_model.adapters.http_fetcher import HttpxFetcher
from collection_model.domain.ssrf import BlockedAddressError
from collection_model.service_layer.fetch import ResponseTooLargeError

ADDRESSES = {"api.example.com": ["93.184.216.34"], "internal.example.com": ["10.0.0.5"]}


async def resolve(host: str) -> list[str]:
    return ADDRESSES.get(host, ["127.0.0.1"])


def fetcher(handler: httpx.MockTransport) -> HttpxFetcher:
    return HttpxFetcher(httpx.AsyncClient(transport=handler), resolver=resolve)


async def call(f: HttpxFetcher, url: str, **kw: object) -> object:
    args: dict[str, object] = {"headers": {}, "json_body": None, "timeout": 5, "max_bytes": 1000,
                               "max_redirects": 3, "allowlist": []}
    args.update(kw)
    return await f.request("GET", url, **args)  # type: ignore[arg-type]


async def test_redirect_to_a_private_address_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "http://internal.example.com/secret"})

    with pytest.raises(BlockedAddressError, match="10.0.0.5"):
        await call(fetcher(httpx.MockTransport(handler)), "https://api.example.com/start")


async def test_loopback_is_refused_unless_allowlisted() -> None:
    f = fetcher(httpx.MockTransport(lambda r: httpx.Response(200, text="ok")))
    with pytest.raises(BlockedAddressError):
        await call(f, "http://localhost:8080/x")
    response = await call(f, "http://localhost:8080/x", allowlist=["127.0.0.1"])
    assert response.status == 200  # type: ignore[attr-defined]


async def test_decoded_size_limit() -> None:
    f = fetcher(httpx.MockTransport(lambda r: httpx.Response(200, content=b"x" * 5000)))
    with pytest.raises(ResponseTooLargeError):
        await call(f, "https://api.example.com/big")


async def test_redirects_are_followed_up_to_the_limit() -> None:
    hops = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        hops["n"] += 1
        return httpx.Response(302, headers={"location": f"/hop{hops['n']}"})

    with pytest.raises(Exception, match="more than 3 redirects"):
        await call(fetcher(httpx.MockTransport(handler)), "https://api.example.com/a")
