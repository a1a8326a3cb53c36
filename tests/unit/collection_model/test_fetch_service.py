"""FetchService end to end over the aiohttp adapter and a local fake API: retries, fan-out
bounds, skipped items, pages as documents, rate limit, secrets kept out of errors."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import pytest
from aiohttp import web
from cm_fakes import Harness, ListSink  # type: ignore[import-not-found]
from cm_server import FakeApi, Seen, drop  # type: ignore[import-not-found]

from collection_model.service_layer.fetch import FetchJob, FetchOutcome
from headwater.config import IterationSpec, RequestSpec, RetrySpec

Start = Callable[..., Awaitable[Harness]]
API_KEY = "sk_live_0123456789abcdef"


def req(**kw: Any) -> RequestSpec:
    return RequestSpec.model_validate({"base_url": "http://api.example.com/v1", **kw})


def job(request: RequestSpec, retry: RetrySpec | None = None, iteration: IterationSpec | None = None) -> FetchJob:
    return FetchJob("src", "src:t1", request, retry or RetrySpec(), iteration)


def fan(concurrency: int = 5, foreach: str = "region") -> IterationSpec:
    return IterationSpec(
        foreach=foreach, source_mcp="plantation-mcp", source_tool="list_regions", concurrency=concurrency
    )


def ok_json(body: Any = None) -> Callable[[Seen], web.Response]:
    return lambda r: web.json_response({} if body is None else body)


async def test_one_request_becomes_one_document(harness: Start) -> None:
    h, sink = await harness(FakeApi({"/v1": ok_json({"a": 1})})), ListSink()
    outcome = await h.service.run(job(req()), sink)
    assert outcome.counts() == {"items": 1, "fetched": 1, "failed": 0, "pages": 1, "documents": 1}
    [doc] = sink.docs
    assert (doc.document_key, doc.content_type, doc.linkage) == ("page-1", "application/json", {"page": 1})
    assert json.loads(doc.content) == {"a": 1}


async def test_5xx_429_and_timeouts_are_retried_with_retry_after_honoured(harness: Start) -> None:
    retry_date = format_datetime(datetime(2026, 1, 1, 0, 0, 20, tzinfo=UTC), usegmt=True)  # the fake clock's now + 20 s
    answered: list[int] = []

    async def flaky(request: Seen) -> web.Response:  # one request at a time: a plain count is its order
        answered.append(1)
        n = len(answered)
        if n == 1:
            return web.Response(status=503)
        if n == 2:
            return web.Response(status=429, headers={"retry-after": "7"})
        if n == 3:
            await asyncio.sleep(30)  # past the request's deadline (the handler is cancelled then)
        if n == 4:
            return web.Response(status=503, headers={"retry-after": retry_date})
        return web.json_response({"fine": True})

    h = await harness(FakeApi({"/v1": flaky}))
    spec = req(timeout_seconds=1)
    outcome = await h.service.run(job(spec, RetrySpec(max_attempts=5, max_seconds=60)), ListSink())
    assert outcome.status == "succeeded" and len(h.api.requests) == 5
    assert h.clock.sleeps[1] == 7.0  # Retry-After in seconds
    assert h.clock.sleeps[3] == pytest.approx(20 - sum(h.clock.sleeps[:3]))  # Retry-After as an HTTP date


async def test_no_retry_on_404(harness: Start) -> None:
    h = await harness(FakeApi({"/v1": lambda r: web.Response(status=404)}))
    outcome = await h.service.run(job(req(), RetrySpec(max_attempts=5)), ListSink())
    assert outcome.status == "failed" and len(h.api.requests) == 1 and h.clock.sleeps == []
    assert outcome.failures[0].error == "HttpStatusError: HTTP 404 from http://api.example.com/v1"


async def test_connection_errors_are_retried_then_reported(harness: Start) -> None:
    h = await harness(FakeApi(), refused=frozenset({"down.example.com"}))
    spec = RequestSpec(base_url="http://down.example.com/v1")
    outcome = await h.service.run(job(spec, RetrySpec(max_attempts=3)), ListSink())
    assert outcome.status == "failed" and h.connections.calls == ["down.example.com"] * 3 and len(h.clock.sleeps) == 2
    assert "RetriesExhaustedError" in outcome.failures[0].error and "after 3 attempts" in outcome.failures[0].error


@pytest.mark.parametrize("concurrency", [1, 3, 8])
async def test_fan_out_never_exceeds_concurrency_and_reaches_it(harness: Start, concurrency: int) -> None:
    api = FakeApi({}, delay=0.02, limit=concurrency)
    api.routes["/v1/regions"] = lambda r: web.json_response({"q": r.query["id"]})
    h, sink = await harness(api, items=[{"id": f"r{i}"} for i in range(24)]), ListSink()
    request = req(path="/regions", parameters={"id": "{item.id}"})
    outcome = await h.service.run(job(request, iteration=fan(concurrency)), sink)
    assert outcome.fetched == 24 and len(sink.docs) == 24
    assert api.violations == 0 and api.max_in_flight == concurrency


async def test_fan_out_bound_holds_across_pages_and_retries(harness: Start) -> None:
    attempts: Counter[str] = Counter()  # per URL: whatever order the items run in

    def route(request: Seen) -> web.Response:
        attempts[request.query_string] += 1
        page, item = int(request.query["page"]), int(request.query["id"])
        if page == 2 and item % 3 == 0 and attempts[request.query_string] == 1:
            return web.Response(status=503)  # page 2 of every third item needs a second attempt
        return web.json_response({"rows": [1, 2] if page < 3 else []})

    api = FakeApi({"/v1/r": route}, delay=0.005, limit=4)
    h = await harness(api, items=[{"id": i} for i in range(15)])
    pagination = {"type": "page_number", "records_path": "rows"}
    request = req(path="/r", parameters={"id": "{item.id}"}, pagination=pagination)
    outcome = await h.service.run(job(request, RetrySpec(max_attempts=5), fan(4)), ListSink())
    assert outcome.fetched == 15 and outcome.pages == 45
    assert len(h.clock.sleeps) == 5 and len(api.requests) == 50  # five pages needed a retry
    assert api.violations == 0 and api.max_in_flight == 4


async def test_a_failing_item_is_skipped_while_the_others_succeed(harness: Start) -> None:
    def route(request: Seen) -> web.Response:
        return web.Response(status=500) if request.path.endswith("/south") else web.json_response({})

    items = [{"id": "north", "name": "N"}, {"id": "south"}, {"id": "east"}, {"name": "west"}]
    h = await harness(FakeApi({f"/v1/regions/{n}": route for n in ("north", "south", "east", "west")}))
    sink = ListSink()
    h.items.items = items
    outcome = await h.service.run(job(req(path="/regions/{item.id}"), RetrySpec(max_attempts=3), fan()), sink)
    # "west" (named by its name) has no id: its template fails (not retried); "south" fails after 3 attempts
    assert sorted(f.key for f in outcome.failures) == ["region=south", "region=west"]
    assert outcome.status == "partial" and outcome.counts()["fetched"] == 2 and outcome.counts()["failed"] == 2
    assert [p for p in h.api.paths() if p.endswith("south")] == ["/v1/regions/south"] * 3
    assert sink.keys() == ["region=east/page-1", "region=north/page-1"]
    north = next(d for d in sink.docs if d.document_key == "region=north/page-1")
    assert north.linkage == {"region": {"id": "north", "name": "N"}, "page": 1}


async def test_listing_items_failure_fails_the_task(harness: Start) -> None:
    h = await harness(FakeApi())
    h.items.error = RuntimeError("MCP app unreachable")
    outcome = await h.service.run(job(req(path="/{item.id}"), iteration=fan()), ListSink())
    assert outcome.status == "failed" and outcome.failures[0].key == "*"
    assert "MCP app unreachable" in outcome.failures[0].error


async def test_duplicate_item_names_get_distinct_document_keys(harness: Start) -> None:
    h = await harness(FakeApi({"/v1/x": ok_json()}), items=[{"id": "a"}, {"id": "a"}, {"id": "b/c"}])
    sink = ListSink()
    await h.service.run(job(req(path="/x"), iteration=fan()), sink)
    assert sink.keys() == ["region=a/page-1", "region=a~1/page-1", "region=b%2Fc/page-1"]


async def test_pages_of_each_item_become_documents_and_a_loop_keeps_what_was_fetched(harness: Start) -> None:
    def cursor_api(request: Seen) -> web.Response:
        cursor = request.query.get("cursor")
        if request.query["region"] == "loop":  # an API that keeps answering the same cursor
            return web.json_response({"next": "same"})
        return web.json_response({"next": {None: "c2", "c2": "c3"}.get(cursor)})

    h = await harness(FakeApi({"/v1": cursor_api}), items=[{"id": "ok"}, {"id": "loop"}])
    sink = ListSink()
    spec = req(parameters={"region": "{item.id}"}, pagination={"type": "cursor", "cursor_path": "next"})
    outcome = await h.service.run(job(spec, iteration=fan(2)), sink)
    assert sink.keys() == [
        "region=loop/page-1",
        "region=loop/page-2",
        "region=ok/page-1",
        "region=ok/page-2",
        "region=ok/page-3",
    ]
    assert [f.key for f in outcome.failures] == ["region=loop"] and "same cursor twice" in outcome.failures[0].error
    assert outcome.pages == 5 and outcome.documents == 5 and outcome.status == "partial"


async def test_next_url_pages_keep_the_api_key_and_the_host(harness: Start) -> None:
    def pages(request: Seen) -> web.Response:
        n = int(request.query.get("p", "1"))
        nxt = f"http://api.example.com/v1/list?p={n + 1}" if n < 3 else None
        return web.json_response({"next": nxt})

    h, sink = await harness(FakeApi({"/v1/list": pages}), secrets={"k": API_KEY}), ListSink()
    spec = req(
        path="/list",
        auth_type="api_key",
        secret_key="k",
        auth_in="query",
        auth_query_param="key",
        pagination={"type": "next_url", "next_url_path": "next"},
    )
    outcome = await h.service.run(job(spec), sink)
    assert outcome.pages == 3 and sink.keys() == ["page-1", "page-2", "page-3"]
    assert all(r.query["key"] == API_KEY for r in h.api.requests)
    assert [r.headers["host"] for r in h.api.requests] == ["api.example.com"] * 3


async def test_window_and_headers_are_rendered(harness: Start) -> None:
    h = await harness(FakeApi({"/v1": ok_json()}))
    window = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC))
    spec = req(
        parameters={"since": "{window.from}"},
        headers={"X-Until": "{window.to}"},
        method="POST",
        body={"w": "{window.from}"},
    )
    await h.service.run(FetchJob("src", "t", spec, RetrySpec(), None, window), ListSink())
    sent = h.api.requests[0]
    assert sent.query["since"] == "2026-03-01T00:00:00Z" and sent.headers["x-until"] == "2026-03-02T00:00:00Z"
    assert json.loads(sent.body) == {"w": "2026-03-01T00:00:00Z"}


async def test_rate_limit_spaces_requests(harness: Start) -> None:
    h = await harness(FakeApi({"/v1/x": ok_json()}), items=[{"id": i} for i in range(5)])
    outcome = await h.service.run(job(req(path="/x", rate_limit_per_second=2), iteration=fan(1)), ListSink())
    assert outcome.fetched == 5
    assert h.clock.sleeps == pytest.approx([0.5, 0.5, 0.5])  # a burst of 2, then 2 a second


async def test_secrets_never_appear_in_errors(harness: Start) -> None:
    def redirect(request: Seen) -> web.Response:  # a redirect to a private address, carrying the key
        return web.Response(status=302, headers={"location": f"http://10.0.0.5/x?key={API_KEY}"})

    odd_key = "p@ss/w0rd+x y"
    h = await harness(FakeApi({"/v1/redirect": redirect, "/v1/down": drop}), secrets={"k": API_KEY, "odd": odd_key})
    spec = dict(auth_type="api_key", secret_key="k", auth_in="query", auth_query_param="key")
    outcomes: list[FetchOutcome] = [
        await h.service.run(job(req(path="/redirect", **spec)), ListSink()),
        await h.service.run(job(req(path="/down", **spec), RetrySpec(max_attempts=2)), ListSink()),
        await h.service.run(
            job(req(path="/down", **{**spec, "secret_key": "odd"}), RetrySpec(max_attempts=1)), ListSink()
        ),
    ]
    errors = [f.error for o in outcomes for f in o.failures]
    assert len(errors) == 3 and "BlockedAddressError" in errors[0]
    assert all("TransientFetchError" in error or "RetriesExhausted" in error for error in errors[1:])
    for error in errors:
        assert API_KEY not in error and odd_key not in error and "p%40ss%2Fw0rd%2Bx%20y" not in error
    assert {API_KEY, odd_key} <= set(h.secret_log.registered)  # and the log pipeline masks them too


async def test_a_sink_failure_fails_the_task_not_an_item(harness: Start) -> None:
    class BrokenSink(ListSink):  # type: ignore[misc]
        async def emit(self, doc: Any) -> None:
            if len(self.docs) == 3:
                raise ConnectionError("sidecar down")
            await super().emit(doc)

    api = FakeApi({"/v1/x": ok_json()}, delay=0.001)
    h = await harness(api, items=[{"id": i} for i in range(50)])
    with pytest.raises(ConnectionError, match="sidecar down"):  # the work item is redelivered
        await h.service.run(job(req(path="/x"), iteration=fan(2)), BrokenSink())
    assert len(api.requests) < 10  # the other units were cancelled


def counted_pages(total: int, size: int, down: int | None = None) -> Callable[[Seen], web.Response]:
    """A page_number API that tells the total: ``{"items": [...], "total": n}``; page ``down`` fails."""

    def route(request: Seen) -> web.Response:
        page = int(request.query["page"])
        if page == down:
            return web.Response(status=404)
        first = (page - 1) * size
        return web.json_response({"items": list(range(first, min(first + size, total))), "total": total})

    return route


def counted(concurrency: int, max_pages: int = 1000) -> RequestSpec:
    pagination = {
        "type": "page_number",
        "size_param": "per_page",
        "page_size": 10,
        "records_path": "items",
        "total_path": "total",
        "concurrency": concurrency,
        "max_pages": max_pages,
    }
    return req(path="/list", pagination=pagination)


async def test_pages_known_from_the_total_are_fetched_at_once_up_to_pagination_concurrency(harness: Start) -> None:
    api = FakeApi({"/v1/list": counted_pages(95, 10)}, delay=0.02, limit=4)
    h, sink = await harness(api), ListSink()
    outcome = await h.service.run(job(counted(4)), sink)
    assert outcome.counts() == {"items": 1, "fetched": 1, "failed": 0, "pages": 10, "documents": 10}
    assert sorted(d.document_key for d in sink.docs) == sorted(f"page-{n}" for n in range(1, 11))
    pages = sorted(int(r.query["page"]) for r in api.requests)
    assert pages == list(range(1, 11))  # the total says 10 pages: no eleventh, empty one is asked for
    assert api.max_in_flight == 4 and api.violations == 0
    records = [n for d in sink.docs for n in json.loads(d.content)["items"]]
    assert sorted(records) == list(range(95))


async def test_prefetched_pages_keep_max_pages_and_a_failed_page_fails_the_request(harness: Start) -> None:
    api = FakeApi({"/v1/list": counted_pages(95, 10)}, delay=0.005)
    h = await harness(api)
    capped = await h.service.run(job(counted(4, max_pages=3)), ListSink())
    assert capped.pages == 3 and capped.fetched == 1
    api.routes["/v1/list"] = counted_pages(95, 10, down=6)
    sink = ListSink()
    failed = await h.service.run(job(counted(4)), sink)
    assert failed.fetched == 0 and [f.key for f in failed.failures] == ["request"]
    assert "HTTP 404" in failed.failures[0].error and "page-6" not in {d.document_key for d in sink.docs}
