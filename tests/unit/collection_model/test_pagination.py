"""The pagination state machine, driven by a scripted sequence of responses."""

from __future__ import annotations

from typing import Any

import pytest

from collection_model.domain.errors import PaginationError, PaginationLoopError
from collection_model.domain.pagination import (
    Paginator,
    RequestParts,
    ResponseView,
    next_link,
    parse_link_header,
)
from headwater.config import PaginationSpec

BASE = "https://api.example.com/v1/items"


def walk(
    spec: dict[str, Any], bodies: list[Any], headers: list[dict[str, str]] | None = None
) -> tuple[list[Any], Paginator]:
    """Feed ``bodies`` page after page; return what each request asked for (params or URL)."""
    paginator = Paginator(PaginationSpec.model_validate(spec), BASE)
    parts: RequestParts | None = paginator.first()
    asked: list[Any] = []
    for i, body in enumerate(bodies):
        assert parts is not None
        asked.append(parts.url or dict(parts.params))
        view = ResponseView(parts.url or BASE, body, (headers or [{}] * len(bodies))[i])
        parts = paginator.next_request(parts, view)
        if parts is None:
            return asked, paginator
    raise AssertionError(f"pagination did not stop after {len(bodies)} pages")


def test_none_is_one_page() -> None:
    asked, p = walk({}, [{"items": [1, 2]}])
    assert asked == [{}] and p.stop_reason == "single_page"


def test_page_number_with_size_stops_on_a_short_page() -> None:
    spec = {"type": "page_number", "size_param": "per_page", "page_size": 2, "records_path": "items"}
    asked, p = walk(spec, [{"items": [1, 2]}, {"items": [3]}])
    assert asked == [{"page": "1", "per_page": "2"}, {"page": "2", "per_page": "2"}]
    assert p.stop_reason == "short_page"


def test_page_number_counts_from_start_page_and_stops_on_an_empty_page() -> None:
    spec = {"type": "page_number", "page_param": "p", "start_page": 0, "records_path": "data.rows"}
    asked, p = walk(spec, [{"data": {"rows": [1]}}, {"data": {"rows": [2]}}, {"data": {"rows": []}}])
    assert asked == [{"p": "0"}, {"p": "1"}, {"p": "2"}] and p.stop_reason == "empty_page"


def test_a_top_level_array_is_the_records_list() -> None:
    asked, p = walk({"type": "page_number"}, [[1], [2], []])
    assert len(asked) == 3 and p.stop_reason == "empty_page"


def test_offset_advances_by_page_size() -> None:
    spec = {"type": "offset", "page_size": 2, "records_path": "r"}
    asked, _ = walk(spec, [{"r": [1, 2]}, {"r": [3, 4]}, {"r": []}])
    assert asked == [
        {"offset": "0", "limit": "2"},
        {"offset": "2", "limit": "2"},
        {"offset": "4", "limit": "2"},
    ]


def test_has_more_false_stops() -> None:
    asked, p = walk({"type": "page_number", "has_more_path": "meta.more"}, [{"meta": {"more": True}}, {"meta": {}}])
    assert len(asked) == 2 and p.stop_reason == "has_more_false"


def test_total_reached_stops_counting_records() -> None:
    spec = {"type": "page_number", "records_path": "items", "total_path": "total"}
    asked, p = walk(spec, [{"items": [1, 2], "total": 5}, {"items": [3, 4], "total": 5}, {"items": [5], "total": 5}])
    assert len(asked) == 3 and p.stop_reason == "total_reached"


def test_max_pages_stops_an_endless_api() -> None:
    asked, p = walk({"type": "page_number", "max_pages": 3}, [{"x": 1}] * 10)
    assert len(asked) == 3 and p.stop_reason == "max_pages"


def test_cursor_follows_until_it_is_absent() -> None:
    spec = {"type": "cursor", "cursor_path": "next", "size_param": "n", "page_size": 50}
    asked, p = walk(spec, [{"next": "a"}, {"next": 7}, {"next": None}])
    assert asked == [{"n": "50"}, {"cursor": "a", "n": "50"}, {"cursor": "7", "n": "50"}]
    assert p.stop_reason == "no_cursor"


def test_a_repeated_cursor_is_a_loop_error() -> None:
    spec = {"type": "cursor", "cursor_path": "next"}
    with pytest.raises(PaginationLoopError, match="same cursor twice"):
        walk(spec, [{"next": "a"}, {"next": "b"}, {"next": "a"}, {"next": "c"}])


def test_next_url_resolves_relative_links_and_stops() -> None:
    spec = {"type": "next_url", "next_url_path": "links.next"}
    asked, p = walk(spec, [{"links": {"next": "/v1/items?page=2"}}, {"links": {"next": "?page=3"}}, {"links": {}}])
    assert asked == [{}, f"{BASE}?page=2", f"{BASE}?page=3"] and p.stop_reason == "no_next_url"


def test_a_repeated_next_url_is_a_loop_error() -> None:
    spec = {"type": "next_url", "next_url_path": "next"}
    with pytest.raises(PaginationLoopError, match="same next URL twice"):
        walk(spec, [{"next": f"{BASE}?p=2"}, {"next": f"{BASE}?p=3"}, {"next": f"{BASE}?p=2"}])
    with pytest.raises(PaginationLoopError):  # pointing back at the first page
        walk(spec, [{"next": f"{BASE}?p=2"}, {"next": BASE}])


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example.net/v1/items?page=2",
        "http://api.example.com/v1/items?page=2",
        "https://api.example.com:8443/v1/items",
        "//evil.example.net/x",
    ],
)
def test_a_next_url_on_another_origin_is_refused(link: str) -> None:
    with pytest.raises(PaginationError, match=r"leaves https://api\.example\.com"):
        walk({"type": "next_url", "next_url_path": "next"}, [{"next": link}])


def test_a_next_url_with_user_info_is_refused() -> None:
    with pytest.raises(PaginationError, match="user info"):
        walk({"type": "next_url", "next_url_path": "next"}, [{"next": "https://x:y@api.example.com/v1/items?p=2"}])


def test_link_header_follows_rel_next() -> None:
    headers = [
        {
            "link": f'<{BASE}?page=2>; rel="next", <{BASE}?page=9>; rel=last',
        },
        {"link": '<https://api.example.com/v1/items?page=1>; rel="prev first"'},
    ]
    asked, p = walk({"type": "link_header"}, [None, None], headers)
    assert asked == [{}, f"{BASE}?page=2"] and p.stop_reason == "no_next_url"


def test_link_header_loop_is_detected() -> None:
    headers = [{"link": f'<{BASE}?page=2>; rel="next"'}] * 3
    with pytest.raises(PaginationLoopError):
        walk({"type": "link_header"}, [None, None, None], headers)


def test_rfc8288_parsing() -> None:
    value = (
        '<https://a.example.com/x?a=1,2>; title="a, b; c"; rel="prefetch next", '
        "<https://a.example.com/y>; REL=Last, </z>;rel=next"
    )
    assert parse_link_header(value) == [
        ("https://a.example.com/x?a=1,2", {"title": "a, b; c", "rel": "prefetch next"}),
        ("https://a.example.com/y", {"rel": "Last"}),
        ("/z", {"rel": "next"}),
    ]
    assert next_link({"link": value}) == "https://a.example.com/x?a=1,2"
    assert next_link({"link": '<https://a.example.com/p>; rel="previous"'}) is None
    assert next_link({}) is None


def test_an_invalid_jmespath_is_reported_once() -> None:
    # configs are checked when applied; the paginator still refuses one that slipped past
    # (say, stored before that check existed), once, before any request
    spec = PaginationSpec.model_construct(type="cursor", cursor_path="[[")
    with pytest.raises(PaginationError, match="cursor_path"):
        Paginator(spec, BASE)
