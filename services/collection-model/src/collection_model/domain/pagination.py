"""Pagination as a state machine: given the request just made and what came back, what is the
next request — or is this the last page?

``Paginator.first()`` gives the first page's parts; ``next_request(prev, view)`` the next
one or None. It does no I/O; the only state it keeps is the cursors and URLs already seen,
so that an API returning the same cursor or next URL twice raises PaginationLoopError
instead of looping forever.

Stops (returns None) on: ``type: none``; ``max_pages`` reached; an empty page (the records
selected by ``records_path`` — or a top-level JSON array — are empty); a short page (fewer
than ``page_size`` records; page_number and offset only, where the server gives no other
signal); ``has_more_path`` not true; ``total_path`` reached; no cursor / next URL / Link
``rel="next"``. A next URL must keep the scheme, host and port of ``base_url`` and carry no
user info.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import jmespath
from jmespath.exceptions import JMESPathError

from collection_model.domain.errors import PaginationError, PaginationLoopError
from headwater.config import PaginationSpec

__all__ = [
    "PaginationError",
    "PaginationLoopError",
    "Paginator",
    "RequestParts",
    "ResponseView",
    "next_link",
    "parse_link_header",
]


@dataclass(frozen=True)
class RequestParts:
    """One page's request: query parameters to set on the templated URL, or a whole URL."""

    page: int
    params: Mapping[str, str] = field(default_factory=dict)
    url: str | None = None
    records_before: int = 0


@dataclass(frozen=True)
class ResponseView:
    """What pagination reads from a response: the URL requested, its JSON body (or None) and
    its headers (lower-case names)."""

    url: str
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return value is True or (isinstance(value, int | float) and not isinstance(value, bool) and value != 0)


class Paginator:
    def __init__(self, spec: PaginationSpec, base_url: str) -> None:
        self.spec = spec
        self.stop_reason: str | None = None
        self._origin = _origin(base_url)
        self._seen: set[str] = set()
        self._paths: dict[str, Any] = {}
        for name in ("cursor_path", "next_url_path", "records_path", "has_more_path", "total_path"):
            expr = getattr(spec, name)
            if expr:
                try:
                    self._paths[name] = jmespath.compile(expr)
                except JMESPathError as exc:
                    raise PaginationError(f"pagination.{name} {expr!r} is not a valid JMESPath: {exc}") from None

    def first(self) -> RequestParts:
        s = self.spec
        if s.type == "page_number":
            return RequestParts(1, self._with_size({s.page_param: str(s.start_page)}))
        if s.type == "offset":
            return RequestParts(1, {s.offset_param: "0", s.limit_param: str(s.page_size)})
        if s.type == "none":
            return RequestParts(1)
        return RequestParts(1, self._with_size({}))

    def next_request(self, prev: RequestParts, view: ResponseView) -> RequestParts | None:
        s = self.spec
        self._seen.add("next URL:" + (prev.url or view.url))
        records = self._records(view.body)
        seen_records = prev.records_before + (len(records) if records is not None else (s.page_size or 0))
        stop = self._stop(prev, view, records, seen_records)
        if stop:
            self.stop_reason = stop
            return None
        page = prev.page + 1
        if s.type == "page_number":
            params = self._with_size({s.page_param: str(s.start_page + prev.page)})
            return RequestParts(page, params, None, seen_records)
        if s.type == "offset":
            params = {s.offset_param: str(prev.page * (s.page_size or 0)), s.limit_param: str(s.page_size)}
            return RequestParts(page, params, None, seen_records)
        if s.type == "cursor":
            cursor = self._search("cursor_path", view.body)
            if cursor in (None, "", False):
                return self._stopped("no_cursor")
            if not isinstance(cursor, str | int | float):
                raise PaginationError(f"pagination.cursor_path selected a {type(cursor).__name__}, not a cursor")
            params = self._with_size({s.cursor_param: self._once(str(cursor), "cursor")})
            return RequestParts(page, params, None, seen_records)
        link = self._search("next_url_path", view.body) if s.type == "next_url" else next_link(view.headers)
        if not link or not isinstance(link, str):
            return self._stopped("no_next_url")
        try:
            url = urljoin(prev.url or view.url, link)
            origin = _origin(url)
        except ValueError as exc:  # e.g. "http://[::1" or a port that is not a number
            shown = link if len(link) <= 80 else link[:77] + "..."
            raise PaginationError(f"the next page URL {shown!r} is malformed: {exc}") from None
        if origin != self._origin:
            raise PaginationError(f"the next page URL leaves {self._origin[0]}://{self._origin[1]}; refused")
        if "@" in urlsplit(url).netloc:  # same host, but user info would become a Basic credential
            raise PaginationError("the next page URL carries user info; refused")
        return RequestParts(page, {}, self._once(url, "next URL"), seen_records)

    def rest(self, first: RequestParts, view: ResponseView) -> list[RequestParts] | None:
        """Every remaining page at once, when the first page's response tells how many there are
        (``page_number`` / ``offset`` with ``page_size`` and ``total_path``, ``concurrency`` > 1):
        the pages up to the total, at most ``max_pages``; None when they must be walked."""
        s = self.spec
        if s.concurrency <= 1 or s.type not in ("page_number", "offset") or not s.page_size or not s.total_path:
            return None
        total = self._search("total_path", view.body)
        if not isinstance(total, int | float) or isinstance(total, bool):
            return None
        if self._stop(first, view, self._records(view.body), first.records_before + s.page_size):
            return None  # one page holds it all, or the first page already ends the walk
        pages = min(-(-int(total) // s.page_size), s.max_pages)
        self.stop_reason = "total_reached" if pages * s.page_size >= total else "max_pages"
        if s.type == "page_number":
            return [
                RequestParts(n, self._with_size({s.page_param: str(s.start_page + n - 1)})) for n in range(2, pages + 1)
            ]
        return [
            RequestParts(n, {s.offset_param: str((n - 1) * s.page_size), s.limit_param: str(s.page_size)})
            for n in range(2, pages + 1)
        ]

    def _stop(self, prev: RequestParts, view: ResponseView, records: list[Any] | None, seen: int) -> str | None:
        s = self.spec
        if s.type == "none":
            return "single_page"
        if prev.page >= s.max_pages:
            return "max_pages"
        if records is not None and not records:
            return "empty_page"
        if s.has_more_path and not _truthy(self._search("has_more_path", view.body)):
            return "has_more_false"
        total = self._search("total_path", view.body)
        if isinstance(total, int | float) and not isinstance(total, bool) and seen >= total:
            return "total_reached"
        short = s.page_size is not None and records is not None and len(records) < s.page_size
        if short and s.type in ("page_number", "offset"):
            return "short_page"
        return None

    def _stopped(self, reason: str) -> RequestParts | None:
        self.stop_reason = reason
        return None

    def _records(self, body: Any) -> list[Any] | None:
        if "records_path" in self._paths:
            found = self._search("records_path", body)
            return found if isinstance(found, list) else []
        return body if isinstance(body, list) else None

    def _search(self, name: str, body: Any) -> Any:
        expr = self._paths.get(name)
        if expr is None or not isinstance(body, dict | list):
            return None
        try:
            return expr.search(body)
        except JMESPathError as exc:  # a function given the wrong type by this response
            expression = getattr(self.spec, name)
            raise PaginationError(f"pagination.{name} {expression!r} fails on this response: {exc}") from None

    def _with_size(self, params: dict[str, str]) -> dict[str, str]:
        if self.spec.size_param and self.spec.page_size:
            params[self.spec.size_param] = str(self.spec.page_size)
        return params

    def _once(self, value: str, what: str) -> str:
        if f"{what}:{value}" in self._seen:
            shown = value if len(value) <= 80 else value[:77] + "..."
            raise PaginationLoopError(f"the API returned the same {what} twice ({shown!r}); stopped instead of looping")
        self._seen.add(f"{what}:{value}")
        return value


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.hostname, parts.port


def parse_link_header(value: str) -> list[tuple[str, dict[str, str]]]:
    """RFC 8288 ``Link`` values: ``[(target, {param: value})]``; names lower-cased, quotes removed."""
    links: list[tuple[str, dict[str, str]]] = []
    i, n = 0, len(value)
    while i < n:
        start = value.find("<", i)
        end = value.find(">", start + 1)
        if start < 0 or end < 0:
            break
        target, i = value[start + 1 : end].strip(), end + 1
        params: dict[str, str] = {}
        while i < n:
            while i < n and value[i] in " \t":
                i += 1
            if i >= n or value[i] != ";":
                break
            i += 1
            eq = i
            while eq < n and value[eq] not in "=;,":
                eq += 1
            name = value[i:eq].strip().lower()
            i, param = eq, ""
            if i < n and value[i] == "=":
                i += 1
                while i < n and value[i] in " \t":
                    i += 1
                param, i = _param_value(value, i)
            params.setdefault(name, param)
        links.append((target, params))
        comma = value.find(",", i)
        i = n if comma < 0 else comma + 1
    return links


def _param_value(value: str, i: int) -> tuple[str, int]:
    if i < len(value) and value[i] == '"':
        out, i = [], i + 1
        while i < len(value) and value[i] != '"':
            if value[i] == "\\" and i + 1 < len(value):
                i += 1
            out.append(value[i])
            i += 1
        return "".join(out), i + 1
    end = i
    while end < len(value) and value[end] not in ";,":
        end += 1
    return value[i:end].strip(), end


def next_link(headers: Mapping[str, str]) -> str | None:
    """The target of the first ``rel="next"`` link (``rel`` may hold several relation types)."""
    for target, params in parse_link_header(headers.get("link", "")):
        if "next" in params.get("rel", "").lower().split():
            return target
    return None
