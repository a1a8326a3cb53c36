"""Fuzzing what collection-model reads from APIs and configs: pagination over any response
(bodies, cursors, next links, ``Link`` headers), template rendering with any values, and
content decoding of any bytes → a result or the typed FetchError subclass, never another
exception or a hang."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from typing import Any

from fuzz_support import FUZZ, outcome  # type: ignore[import-not-found]
from hypothesis import example, given
from hypothesis import strategies as st

from collection_model.adapters.decoding import BoundedDecoder
from collection_model.domain.errors import FetchError, PaginationError, TemplateError
from collection_model.domain.pagination import Paginator, RequestParts, ResponseView, next_link, parse_link_header
from collection_model.domain.templating import Place, TemplateContext, build_url, check_same_origin, render, render_body
from headwater.config import PaginationSpec
from headwater.config.templates import TemplateSyntaxError, check_template, tokenize

BASE = "https://api.example.com/v1/items"
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
links = st.sampled_from(
    [
        "/v1/items?page=2",
        "https://api.example.com/x",
        "https://evil.example/x",
        "http://[::1",
        "https://a:b@api.example.com/",
        "https://api.example.com:xx/",
        "//api.example.com/y",
        "",
        "?p=3",
        "javascript:alert(1)",
        "https://api.example.com:443/",
    ]
) | st.text(max_size=30)
bodies = json_values | st.fixed_dictionaries(
    {
        "items": st.lists(st.integers(), max_size=3),
        "next": links | st.integers() | st.none(),
        "more": scalars,
        "total": scalars,
    }
)
PATHS = ["next", "abs(next)", "length(items)", "items[0]", "keys(@)", "more", "total", "to_number(next)"]
specs = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["none", "page_number", "offset", "cursor", "next_url", "link_header"]),
        "max_pages": st.integers(1, 8),
    },
    optional={
        "page_size": st.integers(1, 3),
        "records_path": st.sampled_from(["items", "data.items", "length(items)", "abs(items)"]),
        "has_more_path": st.sampled_from(PATHS),
        "total_path": st.sampled_from(PATHS),
        "cursor_path": st.sampled_from(PATHS),
        "next_url_path": st.sampled_from(PATHS),
    },
).map(lambda s: {**s, "page_size": s.get("page_size", 2)} if s["type"] == "offset" else s)


def walk(spec: dict[str, Any], pages: list[tuple[Any, str]]) -> int:
    """Requests made before pagination stopped or refused; never more than ``max_pages``."""
    s = PaginationSpec.model_validate(
        {**spec, "cursor_path": spec.get("cursor_path", "next"), "next_url_path": spec.get("next_url_path", "next")}
    )
    paginator = Paginator(s, BASE)
    parts: RequestParts | None = paginator.first()
    made = 0
    for body, link in pages:
        assert parts is not None
        made += 1
        view = ResponseView(parts.url or BASE, body, {"link": link})
        parts = paginator.next_request(parts, view)
        if parts is None:
            break
        assert parts.url is None or parts.url.startswith("https://api.example.com")
    assert made <= s.max_pages
    return made


@FUZZ
@given(
    specs,
    st.lists(
        st.tuples(bodies, st.text(max_size=40) | links.map(lambda u: f'<{u}>; rel="next"')), min_size=1, max_size=10
    ),
)
@example({"type": "cursor", "max_pages": 3, "cursor_path": "abs(next)"}, [({"next": "x"}, "")])  # JMESPathTypeError
@example({"type": "link_header", "max_pages": 3}, [({}, '<http://[::1>; rel="next"')])  # ValueError from urljoin
@example({"type": "link_header", "max_pages": 3}, [({}, '<https://api.example.com:xx/>; rel="next"')])  # port
@example({"type": "page_number", "max_pages": 3, "has_more_path": "abs(more)"}, [({"more": "x"}, "")])
def test_pagination_over_any_responses(spec: dict[str, Any], pages: list[tuple[Any, str]]) -> None:
    outcome(lambda: walk(spec, pages), PaginationError)


@FUZZ
@given(
    st.text(max_size=200)
    | st.lists(st.sampled_from(["<", ">", ";", ",", '"', "\\", "rel", "=", "next", " ", "a"]), max_size=40).map("".join)
)
def test_link_headers_of_any_text(value: str) -> None:
    parsed = outcome(lambda: parse_link_header(value))
    assert all(isinstance(t, str) and isinstance(p, dict) for t, p in parsed)  # type: ignore[union-attr]
    outcome(lambda: next_link({"link": value}))


templates = st.text(max_size=30) | st.lists(
    st.sampled_from(
        [
            "{item.id}",
            "{window.from}",
            "{linkage.k}",
            "{",
            "}",
            "{{",
            "}}",
            "/",
            "a",
            "{item.__class__}",
            "{ item.id }",
            "%2F",
            "..",
        ]
    ),
    max_size=8,
).map("".join)
item_values = (
    scalars
    | st.datetimes()
    | st.lists(st.integers(), max_size=2)
    | st.sampled_from(["../admin", "@evil.com", "a\r\nHost: x", "%2F", "?x", "#f"])
)


@FUZZ
@given(
    templates, st.dictionaries(st.sampled_from(["id", "k"]), item_values), st.booleans(), st.sampled_from(list(Place))
)
def test_rendering_any_template_with_any_values(
    template: str, values: dict[str, Any], windowed: bool, place: Place
) -> None:
    window = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2)) if windowed else None
    ctx = TemplateContext(item=values, window=window, linkage=values)
    rendered = outcome(lambda: render(template, ctx, place), TemplateError)
    if place is Place.HEADER and isinstance(rendered, str):
        assert not any(c in rendered for c in "\r\n\x00") or any(c in template for c in "\r\n\x00")
    outcome(lambda: render_body({"q": [template, 1, None]}, ctx), TemplateError)
    problems = outcome(lambda: check_template(template, has_iteration=True, has_window=windowed))
    assert isinstance(problems, list)
    outcome(lambda: tokenize(template), TemplateSyntaxError)


@FUZZ
@given(
    st.sampled_from([BASE, "https://api.example.com/{item.id}", "https://api.example.com:8443/v1?x=1", "http://h/"]),
    templates,
    st.dictionaries(st.text(max_size=5), templates, max_size=3),
    st.dictionaries(st.sampled_from(["id", "k"]), item_values),
)
def test_built_urls_stay_on_the_base_url_origin(
    base: str, path: str, params: dict[str, str], values: dict[str, Any]
) -> None:
    url = outcome(lambda: build_url(base, path, params, TemplateContext(item=values, linkage=values)), TemplateError)
    if isinstance(url, str):
        assert outcome(lambda: check_same_origin(base, url)) is None
        assert "#" not in url and "@" not in url.split("/")[2]


@FUZZ
@given(st.text(max_size=60), st.text(max_size=60))
def test_origin_check_of_any_urls(base: str, url: str) -> None:
    outcome(lambda: check_same_origin(base, url), TemplateError)


def decode(encoding: str | None, chunks: list[bytes], limit: int) -> bytes:
    decoder = BoundedDecoder(encoding, limit)
    for chunk in chunks:
        decoder.feed(chunk)
    return decoder.finish()


@FUZZ
@given(
    st.sampled_from([None, "gzip", "deflate", "x-gzip", "identity", "gzip, gzip", "br", "", " , ", "GZIP"])
    | st.text(max_size=10),
    st.lists(st.binary(max_size=64), max_size=4),
)
@example("deflate", [b"\x00\x00\x00\x00\x00"])  # zlib.error from the raw-deflate retry escaped
def test_any_body_under_any_content_encoding(encoding: str | None, chunks: list[bytes]) -> None:
    outcome(lambda: decode(encoding, chunks, 10_000), FetchError)


@FUZZ
@given(st.sampled_from(["gzip", "deflate", "raw-deflate"]), st.integers(1, 4), st.integers(0, 64))
def test_compressed_bodies_come_back_or_stop_at_the_limit(kind: str, members: int, cut: int) -> None:
    payload = b"0123456789" * 5000
    wbits = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS, "raw-deflate": -zlib.MAX_WBITS}[kind]

    def member() -> bytes:
        c = zlib.compressobj(9, zlib.DEFLATED, wbits)
        return c.compress(payload) + c.flush()

    body = b"".join(member() for _ in range(members if kind == "gzip" else 1))
    encoding = "deflate" if kind == "raw-deflate" else kind
    whole = outcome(lambda: decode(encoding, [body[i : i + 100] for i in range(0, len(body), 100)], 10**7), FetchError)
    assert whole == payload * (members if kind == "gzip" else 1)
    bomb = outcome(lambda: decode(encoding, [body], 20_000), FetchError)
    assert isinstance(bomb, FetchError) and "larger than 20000" in str(bomb)
    truncated = outcome(lambda: decode(encoding, [body[: len(body) - cut]], 10**7), FetchError)
    assert isinstance(truncated, FetchError | bytes)
