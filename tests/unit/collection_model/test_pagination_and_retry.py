from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from collection_model.domain.pagination import Page, PaginationLoopError, Paginator
from collection_model.domain.retry_policy import backoff_seconds, is_retryable_status, retry_after_seconds
from headwater.config import PaginationSpec, RetrySpec


def walk(spec: dict[str, Any], pages: list[Any], headers: list[dict[str, str]] | None = None) -> list[Any]:
    p = Paginator(PaginationSpec.model_validate(spec))
    req = p.first()
    seen = []
    for i, body in enumerate(pages):
        seen.append(req.url or dict(req.params))
        req = p.next(req, Page(body, (headers or [{}] * len(pages))[i], req.url or "https://a.example.com/x"))
        if req is None:
            break
    return seen


def test_page_number_stops_on_short_page() -> None:
    pages = [{"items": [1, 2]}, {"items": [3]}, {"items": [9, 9]}]
    spec = {"type": "page_number", "size_param": "n", "page_size": 2, "records_path": "items"}
    assert walk(spec, pages) == [{"page": "1", "n": "2"}, {"page": "2", "n": "2"}]


def test_page_number_stops_on_empty_page() -> None:
    assert len(walk({"type": "page_number", "records_path": "items"}, [{"items": [1]}, {"items": []}, {}])) == 2


def test_offset_advances_by_page_size() -> None:
    spec = {"type": "offset", "page_size": 2, "records_path": "r"}
    assert walk(spec, [{"r": [1, 2]}, {"r": [3, 4]}, {"r": []}]) == [
        {"offset": "0", "limit": "2"},
        {"offset": "2", "limit": "2"},
        {"offset": "4", "limit": "2"},
    ]


def test_cursor_and_repeated_cursor_trap() -> None:
    spec = {"type": "cursor", "cursor_path": "next"}
    assert walk(spec, [{"next": "a"}, {"next": "b"}, {"next": None}]) == [{}, {"cursor": "a"}, {"cursor": "b"}]
    with pytest.raises(PaginationLoopError, match="same cursor twice"):
        walk(spec, [{"next": "a"}, {"next": "a"}, {"next": "c"}])


def test_next_url_loop_and_host_change_are_errors() -> None:
    spec = {"type": "next_url", "next_url_path": "links.next"}
    with pytest.raises(PaginationLoopError, match="same next URL"):
        walk(spec, [{"links": {"next": "/x?p=2"}}, {"links": {"next": "/x?p=2"}}, {}])
    with pytest.raises(PaginationLoopError, match="leaves the source's host"):
        walk(spec, [{"links": {"next": "https://evil.example.net/x"}}])


def test_link_header_has_more_total_and_max_pages() -> None:
    link = [{"link": '<https://a.example.com/x?page=2>; rel="next"'}, {}]
    assert walk({"type": "link_header"}, [None, None], link) == [{}, "https://a.example.com/x?page=2"]
    assert len(walk({"type": "page_number", "has_more_path": "more"}, [{"more": True}, {"more": False}, {}])) == 2
    assert len(walk({"type": "page_number", "page_size": 2, "total_path": "total"}, [{"total": 3}] * 5)) == 2
    assert len(walk({"type": "page_number", "max_pages": 3}, [{}] * 10)) == 3


@pytest.mark.parametrize(
    ("status", "retry"),
    [(408, True), (429, True), (500, True), (503, True), (400, False), (401, False), (404, False), (422, False)],
)
def test_retry_classification(status: int, retry: bool) -> None:
    assert is_retryable_status(status) is retry


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30.0
    assert retry_after_seconds("soon") is None
    spec = RetrySpec(max_seconds=10)
    assert backoff_seconds(spec, 1, retry_after=120) == 10  # capped
    assert all(0 <= backoff_seconds(spec, a) <= min(10, 2 ** (a - 1)) for a in range(1, 8))
