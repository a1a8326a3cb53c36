"""Paginators as pure state machines: given the last page, what is the next request?

Stops on: an empty page, a short page, ``has_more`` false, the total reached, or
``max_pages``. A cursor or next URL seen before raises PaginationLoopError instead of
looping forever.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import jmespath

from headwater.config import PaginationSpec

__all__ = ["Page", "PageRequest", "PaginationLoopError", "Paginator"]

LINK_NEXT = re.compile(r'<([^>]+)>\s*;[^,]*rel="?next"?', re.IGNORECASE)


class PaginationLoopError(RuntimeError):
    """The API returned a cursor or next URL it had returned before."""


@dataclass(frozen=True)
class PageRequest:
    """What to change for the next request: extra query parameters, or a whole URL."""

    number: int
    params: dict[str, str] = field(default_factory=dict)
    url: str | None = None


@dataclass(frozen=True)
class Page:
    body: Any
    headers: dict[str, str]
    url: str


class Paginator:
    def __init__(self, spec: PaginationSpec) -> None:
        self.spec = spec
        self._seen: set[str] = set()
        self._fetched = 0

    def first(self) -> PageRequest:
        s = self.spec
        if s.type == "page_number":
            return PageRequest(1, self._size({s.page_param: str(s.start_page)}))
        if s.type == "offset":
            return PageRequest(1, {s.offset_param: "0", s.limit_param: str(s.page_size)})
        return PageRequest(1, self._size({}))

    def _size(self, params: dict[str, str]) -> dict[str, str]:
        if self.spec.size_param and self.spec.page_size:
            params[self.spec.size_param] = str(self.spec.page_size)
        return params

    def _search(self, expr: str | None, body: Any) -> Any:
        return jmespath.search(expr, body) if expr and isinstance(body, dict | list) else None

    def next(self, current: PageRequest, page: Page) -> PageRequest | None:
        s = self.spec
        self._fetched += 1
        if s.type == "none" or self._fetched >= s.max_pages:
            return None
        records = self._search(s.records_path, page.body)
        if s.records_path is not None and isinstance(records, list):
            if not records:
                return None
            if s.page_size and len(records) < s.page_size and s.type in ("page_number", "offset"):
                return None
        if s.has_more_path and self._search(s.has_more_path, page.body) is False:
            return None
        if s.total_path and s.page_size:
            total = self._search(s.total_path, page.body)
            if isinstance(total, int) and self._fetched * s.page_size >= total:
                return None
        number = current.number + 1
        if s.type == "page_number":
            return PageRequest(number, self._size({s.page_param: str(s.start_page + self._fetched)}))
        if s.type == "offset":
            return PageRequest(
                number, {s.offset_param: str(self._fetched * (s.page_size or 0)), s.limit_param: str(s.page_size)}
            )
        if s.type == "cursor":
            cursor = self._search(s.cursor_path, page.body)
            if cursor in (None, ""):
                return None
            return PageRequest(number, self._size({s.cursor_param: self._once(str(cursor), "cursor")}))
        if s.type == "next_url":
            link = self._search(s.next_url_path, page.body)
            return self._follow(number, link, page.url)
        if s.type == "link_header":
            header = page.headers.get("link", "")
            match = LINK_NEXT.search(header)
            return self._follow(number, match.group(1) if match else None, page.url)
        return None

    def _follow(self, number: int, link: Any, current_url: str) -> PageRequest | None:
        if not link:
            return None
        url = urljoin(current_url, str(link))
        if (urlsplit(url).scheme, urlsplit(url).netloc) != (urlsplit(current_url).scheme, urlsplit(current_url).netloc):
            raise PaginationLoopError(f"next page URL {url!r} leaves the source's host")
        return PageRequest(number, url=self._once(url, "next URL"))

    def _once(self, value: str, what: str) -> str:
        if value in self._seen:
            raise PaginationLoopError(
                f"the API returned the same {what} twice ({value!r}); stopping instead of looping"
            )
        self._seen.add(value)
        return value
