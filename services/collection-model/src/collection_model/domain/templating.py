"""Safe request templates: ``{item.<f>}``, ``{window.from}``, ``{window.to}``, ``{linkage.<f>}``.

The platform's one tokenizer (``headwater.config.templates.tokenize``, shared with config
validation) splits a template into literal text and variables — never ``str.format``, which
could reach attributes (``{item.__class__}``). Each value is encoded for the place it
lands in: percent-encoded with nothing safe in a path segment or a query value, checked for
CR/LF in a header. After rendering, the URL must keep the scheme, host and port of
``base_url``, carry no user info, fragment, control character or dot segment: a value such
as ``@evil.com``, ``../admin``, ``%2F``, ``?x`` or ``a\\r\\nHost: x`` can never move the
request elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from collection_model.domain.errors import TemplateError
from headwater.config.templates import ALLOWED_FORMS, TemplateSyntaxError, Token, is_known_variable
from headwater.config.templates import tokenize as split_template

__all__ = [
    "Place",
    "TemplateContext",
    "TemplateError",
    "Token",
    "build_url",
    "check_same_origin",
    "render",
    "render_body",
    "tokenize",
    "with_params",
]

_UNSAFE_IN_URL = re.compile(r"[\x00-\x20\x7f]")
_DOT_SEGMENT = re.compile(r"^(\.|%2e){1,2}$", re.IGNORECASE)


class Place(Enum):
    """Where a rendered value lands, which decides how it is encoded."""

    PATH = "path"  # percent-encoded, '/' included
    RAW = "raw"  # as is: query values (encoded when the query is assembled) and JSON bodies
    HEADER = "header"  # as is, but CR, LF and NUL are refused


def tokenize(template: str) -> list[Token]:
    """Literal text and variables, by the platform's one tokenizer (``headwater.config.templates``,
    which also validates configs); a variable that is not one of the four forms is refused."""
    try:
        tokens = split_template(template)
    except TemplateSyntaxError as exc:
        raise TemplateError(str(exc)) from None
    for token in tokens:
        if token.is_variable and not is_known_variable(token.text):
            raise TemplateError(f"unknown template variable {{{token.text}}}; allowed: {ALLOWED_FORMS}")
    return tokens


def _iso_utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class TemplateContext:
    """The values templates may use: the iteration item, the task's window, the linkage."""

    item: Mapping[str, Any] = field(default_factory=dict)
    window: tuple[datetime, datetime] | None = None
    linkage: Mapping[str, Any] = field(default_factory=dict)

    def lookup(self, name: str) -> str:
        scope, _, key = name.partition(".")
        if scope == "window":
            if self.window is None:
                raise TemplateError(f"template variable {{{name}}} has no value: the task has no window")
            return _iso_utc(self.window[0] if key == "from" else self.window[1])
        values = self.item if scope == "item" else self.linkage
        if key not in values:
            raise TemplateError(f"template variable {{{name}}} has no value here")
        return _scalar(name, values[key])


def _scalar(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, datetime):
        return _iso_utc(value)
    kind = "null" if value is None else type(value).__name__
    raise TemplateError(f"template variable {{{name}}} is {kind}, not a string or number")


def render(template: str, ctx: TemplateContext, place: Place = Place.RAW) -> str:
    """Substitute every variable, encoding values for ``place`` (literal text stays as written)."""
    out: list[str] = []
    for token in tokenize(template):
        if not token.is_variable:
            out.append(token.text)
            continue
        value = ctx.lookup(token.text)
        if place is Place.PATH:
            value = quote(value, safe="")
        elif place is Place.HEADER and any(c in value for c in "\r\n\x00"):
            raise TemplateError(f"template variable {{{token.text}}} has a line break; refused in a header")
        out.append(value)
    return "".join(out)


def render_body(body: Any, ctx: TemplateContext) -> Any:
    """A JSON body whose string leaves may be templates."""
    if isinstance(body, str):
        return render(body, ctx)
    if isinstance(body, dict):
        return {k: render_body(v, ctx) for k, v in body.items()}
    if isinstance(body, list):
        return [render_body(v, ctx) for v in body]
    return body


def _join_path(base: str, extra: str) -> str:
    if not extra:
        return base
    return base.rstrip("/") + "/" + extra.lstrip("/")


def _encode_query(pairs: Iterable[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)


def build_url(
    base_url: str,
    path: str,
    parameters: Mapping[str, str],
    ctx: TemplateContext,
    extra_params: Mapping[str, str] | None = None,
) -> str:
    """``base_url`` (templates in its path) + ``path`` + query (``parameters``, then
    ``extra_params`` such as pagination or an API key, which win on the same name).

    Raises TemplateError when the result would leave ``base_url``'s scheme and host.
    """
    parts = urlsplit(render(base_url, ctx, Place.PATH))
    query = {name: render(value, ctx) for name, value in parameters.items()}
    query.update(extra_params or {})
    encoded = "&".join(q for q in (parts.query, _encode_query(query.items())) if q)
    url = urlunsplit((parts.scheme, parts.netloc, _join_path(parts.path, render(path, ctx, Place.PATH)), encoded, ""))
    check_same_origin(base_url, url)
    return url


def with_params(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` set (replacing same-named ones): credentials on a next-page URL."""
    if not params:
        return url
    parts = urlsplit(url)
    kept = [p for p in parts.query.split("&") if p and p.split("=", 1)[0] not in {quote(k, safe="") for k in params}]
    query = "&".join([*kept, _encode_query(params.items())])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def check_same_origin(base_url: str, url: str) -> None:
    """Raise TemplateError unless ``url`` keeps ``base_url``'s scheme, host and port and is clean."""
    if _UNSAFE_IN_URL.search(url):
        raise TemplateError("rendered URL contains a control character or whitespace")
    try:
        before, after = urlsplit(base_url), urlsplit(url)
        same = (before.scheme, before.hostname, before.port) == (after.scheme, after.hostname, after.port)
    except ValueError as exc:  # e.g. a port that is not a number
        raise TemplateError(f"rendered URL is malformed: {exc}") from None
    if not same or "@" in after.netloc or after.netloc != before.netloc:
        raise TemplateError("rendered URL changes the scheme or host of base_url")
    if after.fragment:
        raise TemplateError("rendered URL has a fragment")
    if any(_DOT_SEGMENT.match(segment) for segment in after.path.split("/")):
        raise TemplateError("rendered URL has a '.' or '..' path segment")
