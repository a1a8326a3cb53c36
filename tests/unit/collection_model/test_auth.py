"""Each auth kind as the remote API sees it (the local fake API reads the headers)."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiohttp import web
from cm_fakes import Harness, ListSink  # type: ignore[import-not-found]
from cm_server import FakeApi, Seen  # type: ignore[import-not-found]

from collection_model.domain.auth import TokenCache
from collection_model.domain.masking import SecretMasker
from collection_model.service_layer.fetch import FetchJob
from headwater.config import IterationSpec, RequestSpec, RetrySpec

Start = Callable[..., Awaitable[Harness]]
KEY = "k3y/with+odd chars"
SECRETS = {"api": KEY, "user": "alice", "pw": "pa:ss", "cid": "client-1", "csecret": "cl1ent-s3cret"}


def req(**kw: Any) -> RequestSpec:
    return RequestSpec.model_validate({"base_url": "http://api.example.com/v1/data", **kw})


def job(request: RequestSpec, retry: RetrySpec | None = None) -> FetchJob:
    return FetchJob("src", "src:t1", request, retry or RetrySpec(max_attempts=1))


def ok(request: Seen) -> web.Response:
    return web.json_response({"ok": True})


@pytest.mark.parametrize(
    ("auth", "header", "query"),
    [
        ({}, None, None),
        ({"auth_type": "api_key", "secret_key": "api"}, ("x-api-key", KEY), None),
        ({"auth_type": "api_key", "secret_key": "api", "auth_header": "X-Token"}, ("x-token", KEY), None),
        ({"auth_type": "api_key", "secret_key": "api", "auth_in": "query", "auth_query_param": "key"}, None, KEY),
        ({"auth_type": "bearer", "secret_key": "api"}, ("authorization", f"Bearer {KEY}"), None),
        (
            {"auth_type": "basic", "username_secret_key": "user", "password_secret_key": "pw"},
            ("authorization", "Basic " + base64.b64encode(b"alice:pa:ss").decode()),
            None,
        ),
    ],
)
async def test_each_auth_kind_reaches_the_server(harness: Start, auth: dict[str, Any], header: Any, query: Any) -> None:
    h = await harness(FakeApi({"/v1/data": ok}), secrets=SECRETS)
    outcome = await h.service.run(job(req(**auth)), ListSink())
    assert outcome.status == "succeeded"
    seen = h.api.requests[0]
    if header:
        assert seen.headers[header[0]] == header[1]
    else:
        assert "authorization" not in seen.headers and "x-api-key" not in seen.headers
    if query:
        assert parse_qs(seen.query_string)["key"] == [query]


async def test_secrets_are_read_at_use_time(harness: Start) -> None:
    h = await harness(FakeApi({"/v1/data": ok}), secrets=SECRETS)
    spec = req(auth_type="bearer", secret_key="api", secret_store="vault")
    await h.service.run(job(spec), ListSink())
    h.secrets.values["api"] = "rotated-value"
    await h.service.run(job(spec), ListSink())
    assert [r.headers["authorization"] for r in h.api.requests] == [f"Bearer {KEY}", "Bearer rotated-value"]
    assert h.secrets.reads == [("vault", "api"), ("vault", "api")]


def oauth_api(lifetime: int = 120) -> tuple[FakeApi, list[Seen]]:
    """The token endpoint issues tok-1, tok-2 …; the API accepts only the newest token."""
    token_calls: list[Seen] = []

    def token(request: Seen) -> web.Response:
        token_calls.append(request)
        return web.json_response({"access_token": f"tok-{len(token_calls)}", "expires_in": lifetime})

    def data(request: Seen) -> web.Response:
        valid = request.headers.get("authorization") == f"Bearer tok-{len(token_calls)}"
        return web.json_response({}, status=200 if valid else 401)

    return FakeApi({"POST /oauth/token": token, "/v1/data": data}), token_calls


OAUTH = {
    "auth_type": "oauth2_client_credentials",
    "token_url": "http://auth.example.com/oauth/token",
    "client_id_secret_key": "cid",
    "client_secret_secret_key": "csecret",
    "scope": "read:data",
}


async def test_oauth2_token_is_fetched_with_client_credentials_and_cached_until_expiry(harness: Start) -> None:
    api, token_calls = oauth_api(lifetime=120)
    h = await harness(api, secrets=SECRETS)
    spec = req(**OAUTH)
    for _ in range(3):
        assert (await h.service.run(job(spec), ListSink())).status == "succeeded"
    assert len(token_calls) == 1
    sent = token_calls[0]
    assert sent.headers["authorization"] == "Basic " + base64.b64encode(b"client-1:cl1ent-s3cret").decode()
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(sent.body.decode()) == {"grant_type": ["client_credentials"], "scope": ["read:data"]}
    assert [r.headers.get("authorization") for r in api.requests if r.path == "/v1/data"] == ["Bearer tok-1"] * 3

    h.clock.advance(89)  # 120 s lifetime minus the 30 s margin: still good
    await h.service.run(job(spec), ListSink())
    assert len(token_calls) == 1
    h.clock.advance(2)
    await h.service.run(job(spec), ListSink())
    assert len(token_calls) == 2 and api.requests[-1].headers["authorization"] == "Bearer tok-2"


async def test_oauth2_token_is_fetched_once_for_a_whole_fan_out(harness: Start) -> None:
    api, token_calls = oauth_api()
    h = await harness(api, secrets=SECRETS, items=[{"id": i} for i in range(20)])
    iteration = IterationSpec(foreach="n", source_mcp="m", source_tool="t", concurrency=10)
    outcome = await h.service.run(FetchJob("src", "t", req(**OAUTH), RetrySpec(), iteration), ListSink())
    assert outcome.fetched == 20 and len(token_calls) == 1


async def test_a_401_with_a_cached_token_fetches_a_fresh_one_once(harness: Start) -> None:
    api, token_calls = oauth_api(lifetime=3600)
    h = await harness(api, secrets=SECRETS)
    spec = req(**OAUTH)
    await h.service.run(job(spec), ListSink())
    token_calls.append(token_calls[0])  # the server revokes tok-1: it now expects tok-2
    outcome = await h.service.run(job(spec), ListSink())
    assert outcome.status == "succeeded" and len(token_calls) == 3


async def test_token_endpoint_refusal_fails_the_item_without_leaking_the_client_secret(harness: Start) -> None:
    api = FakeApi({"POST /oauth/token": lambda r: web.json_response({"error": "invalid_client"}, status=401)})
    h = await harness(api, secrets=SECRETS)
    outcome = await h.service.run(job(req(**OAUTH), RetrySpec(max_attempts=3)), ListSink())
    assert outcome.status == "failed" and len(api.requests) == 1  # refused: not retried
    assert "CredentialError" in outcome.failures[0].error and "cl1ent-s3cret" not in outcome.failures[0].error


async def test_a_missing_secret_fails_the_item_before_any_request(harness: Start) -> None:
    h = await harness(FakeApi({"/v1/data": ok}), secrets={})
    outcome = await h.service.run(job(req(auth_type="bearer", secret_key="nope")), ListSink())
    assert outcome.status == "failed" and "secret 'nope' not found" in outcome.failures[0].error
    assert h.api.requests == []


def test_token_cache_margin() -> None:
    cache = TokenCache(margin_seconds=30)
    cache.put(("k",), "t", 120, now=0)
    assert cache.get(("k",), 89.9) == "t" and cache.get(("k",), 90) is None
    cache.put(("k",), "short", 40, now=0)  # shorter than twice the margin: half the lifetime
    assert cache.get(("k",), 19) == "short" and cache.get(("k",), 20) is None
    cache.drop(("k",))
    assert cache.get(("k",), 0) is None


def test_masker_redacts_every_form_a_secret_takes() -> None:
    forwarded: list[str] = []
    masker = SecretMasker(on_register=forwarded.append)
    masker.register("a/b c+d")
    masker.register(None)
    text = "raw a/b c+d, quoted a%2Fb%20c%2Bd, plus a%2Fb+c%2Bd, path a/b%20c%2Bd"
    assert masker.mask(text) == "raw ***, quoted ***, plus ***, path ***"
    assert "a/b c+d" in forwarded and "a/b c+d" in masker
