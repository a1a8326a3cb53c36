"""FetchService with fake HTTP, secrets and MCP items: auth kinds, retries, fan-out bounds."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cm_fakes import FakeHttp, FakeItems, FakeSecrets, FakeTokens, ListSink, Sleeps  # type: ignore[import-not-found]

from collection_model.service_layer.auth import Authenticator
from collection_model.service_layer.fetch import FetchService
from headwater.config import IterationSpec, RequestSpec, RetrySpec

SECRET = "s3cr3t-value-123"


def ok(body: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    return 200, headers or {}, json.dumps(body).encode()


def service(
    http: FakeHttp,
    items: list[dict[str, Any]] | None = None,
    secrets: dict[str, str] | None = None,
    clock: list[float] | None = None,
) -> tuple[FetchService, Sleeps, FakeTokens]:
    sleeps, tokens = Sleeps(), FakeTokens()
    now = clock or [0.0]
    auth = Authenticator(
        FakeSecrets(secrets or {"k": SECRET, "u": "user", "p": "pw", "cid": "id", "cs": "cs"}),
        tokens,
        clock=lambda: now[0],
    )
    return FetchService(http, FakeItems(items or []), auth, sleep=sleeps), sleeps, tokens


def req(**kw: Any) -> RequestSpec:
    return RequestSpec.model_validate({"base_url": "https://api.example.com/v1/data", **kw})


@pytest.mark.parametrize(
    ("auth", "expect_header", "expect_query"),
    [
        ({"auth_type": "api_key", "secret_key": "k"}, ("X-API-Key", SECRET), None),
        (
            {"auth_type": "api_key", "secret_key": "k", "auth_in": "query", "auth_query_param": "key"},
            None,
            f"key={SECRET}",
        ),
        ({"auth_type": "bearer", "secret_key": "k"}, ("authorization", f"Bearer {SECRET}"), None),
        (
            {"auth_type": "basic", "username_secret_key": "u", "password_secret_key": "p"},
            ("authorization", "Basic " + base64.b64encode(b"user:pw").decode()),
            None,
        ),
    ],
)
async def test_each_auth_kind_reaches_the_server(auth: dict[str, Any], expect_header: Any, expect_query: Any) -> None:
    http = FakeHttp(lambda path, q, h: ok({"x": 1}))
    svc, _, _ = service(http)
    outcome = await svc.run("s", req(**auth), None, RetrySpec(), None, ListSink())
    assert outcome.status == "succeeded"
    url, headers = http.calls[0]
    if expect_header:
        assert headers[expect_header[0]] == expect_header[1]
    if expect_query:
        assert expect_query in url


async def test_oauth2_token_is_cached_until_expiry() -> None:
    http = FakeHttp(lambda path, q, h: ok({}))
    clock = [0.0]
    svc, _, tokens = service(http, clock=clock)
    spec = req(
        auth_type="oauth2_client_credentials",
        token_url="https://auth.example.com/token",
        client_id_secret_key="cid",
        client_secret_secret_key="cs",
    )
    await svc.run("s", spec, None, RetrySpec(), None, ListSink())
    await svc.run("s", spec, None, RetrySpec(), None, ListSink())
    assert tokens.issued == 1 and http.calls[1][1]["authorization"] == "Bearer token-1"
    clock[0] = 100.0  # 120 s lifetime minus a 30 s margin has passed
    await svc.run("s", spec, None, RetrySpec(), None, ListSink())
    assert tokens.issued == 2 and http.calls[2][1]["authorization"] == "Bearer token-2"


async def test_retries_5xx_and_429_with_retry_after_but_not_404() -> None:
    answers = iter([(500, {}, b""), (429, {"retry-after": "3"}, b""), ok({"fine": True})])
    http = FakeHttp(lambda path, q, h: next(answers))
    svc, sleeps, _ = service(http)
    outcome = await svc.run("s", req(), None, RetrySpec(max_attempts=3, max_seconds=10), None, ListSink())
    assert outcome.status == "succeeded" and len(http.calls) == 3
    assert sleeps.waits[1] == 3.0  # Retry-After honoured

    missing = FakeHttp(lambda path, q, h: (404, {}, b""))
    svc2, sleeps2, _ = service(missing)
    failed = await svc2.run("s", req(), None, RetrySpec(max_attempts=5), None, ListSink())
    assert failed.status == "failed" and len(missing.calls) == 1 and sleeps2.waits == []
    assert "HTTP 404" in failed.failures[0].error


async def test_connection_errors_are_retried_then_reported() -> None:
    http = FakeHttp(lambda path, q, h: (0, {}, b""))
    svc, sleeps, _ = service(http)
    outcome = await svc.run("s", req(), None, RetrySpec(max_attempts=3), None, ListSink())
    assert outcome.status == "failed" and len(http.calls) == 3 and len(sleeps.waits) == 2
    assert "after 3 attempts" in outcome.failures[0].error


async def test_fan_out_never_exceeds_concurrency_and_skips_a_failing_item() -> None:
    def route(path: str, q: dict[str, str], h: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        return (503, {}, b"") if path.endswith("/r7") else ok({"path": path})

    http = FakeHttp(route, delay=0.02)
    items = [{"id": f"r{i}"} for i in range(20)]
    svc, _, _ = service(http, items)
    sink = ListSink()
    iteration = IterationSpec(foreach="region", source_mcp="mcp", source_tool="t", concurrency=4)
    outcome = await svc.run("s", req(path="/{item.id}"), iteration, RetrySpec(max_attempts=2), None, sink)

    assert http.max_in_flight == 4
    assert outcome.documents == 19 and [f.key for f in outcome.failures] == ["region=r7"]
    assert outcome.status == "partial"
    doc = next(d for d in sink.docs if d.document_key == "region=r3/page-1")
    assert doc.linkage == {"region": {"id": "r3"}, "page": 1}


async def test_secrets_never_appear_in_errors() -> None:
    http = FakeHttp(lambda path, q, h: (400, {}, b""))
    svc, _, _ = service(http)
    spec = req(auth_type="api_key", secret_key="k", auth_in="query", auth_query_param="key")
    outcome = await svc.run("s", spec, None, RetrySpec(), None, ListSink())
    assert outcome.failures and SECRET not in outcome.failures[0].error


async def test_missing_secret_fails_the_item_with_a_clear_error() -> None:
    http = FakeHttp(lambda path, q, h: ok({}))
    svc, _, _ = service(http, secrets={})
    outcome = await svc.run("s", req(auth_type="bearer", secret_key="nope"), None, RetrySpec(), None, ListSink())
    assert outcome.status == "failed" and "secret 'nope' not found" in outcome.failures[0].error
    assert http.calls == []


async def test_rate_limit_spaces_requests() -> None:
    http = FakeHttp(lambda path, q, h: ok({}))
    svc, sleeps, _ = service(http, [{"id": i} for i in range(3)])
    iteration = IterationSpec(foreach="x", source_mcp="m", source_tool="t", concurrency=1)
    await svc.run("s", req(path="/{item.id}", rate_limit_per_second=1), iteration, RetrySpec(), None, ListSink())
    assert len(sleeps.waits) == 2 and all(w > 0 for w in sleeps.waits)
