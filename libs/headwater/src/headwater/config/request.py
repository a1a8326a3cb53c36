"""``ingestion.request``: the HTTP request that fetches a source, its auth and pagination."""

from __future__ import annotations

import ipaddress
import math
import re
from datetime import date
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from headwater.config.errors import raise_issues
from headwater.config.expressions import JMESPath
from headwater.config.section import Section

__all__ = ["AuthType", "HttpMethod", "PaginationSpec", "PaginationType", "RequestSpec"]

AuthType = Literal["none", "api_key", "bearer", "basic", "oauth2_client_credentials"]
PaginationType = Literal["none", "page_number", "offset", "cursor", "next_url", "link_header"]
HttpMethod = Literal["GET", "POST"]

_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _not_json(value: Any, path: str) -> str | None:
    """Why ``value`` is not a JSON value (the first offending place), or None. YAML can also
    write bytes (``!!binary``), sets, non-string keys and NaN, which a JSON body cannot carry
    and which made hashing the config fail or vary between processes. Dates and times are
    kept: they are sent as ISO 8601 text."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"{_at(path)}{value} is not a JSON number"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{_at(path)}the key {key!r} is not a string; quote it"
            problem = _not_json(item, f"{path}.{key}".lstrip("."))
            if problem:
                return problem
        return None
    if isinstance(value, list | tuple):
        return next((p for i, item in enumerate(value) if (p := _not_json(item, f"{path}.{i}".lstrip(".")))), None)
    if value is None or isinstance(value, str | int | float | bool | date):
        return None
    return f"{_at(path)}a {type(value).__name__} value is not JSON"


def _at(path: str) -> str:
    return f"at {path}: " if path else ""


def _http_url(value: str, name: str) -> str:
    """``value`` if it is an absolute http(s) URL with a host and no braces before its path."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ValueError(f"{name} is not a valid URL ({exc}): {value!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{name} must be an absolute http(s) URL with a host, got {value!r}")
    if "{" in parts.netloc or "}" in parts.netloc:
        raise ValueError(f"templates are not allowed in the scheme or host of {name}; only in its path and query")
    if "@" in parts.netloc:
        raise ValueError(f"{name} must not carry credentials; use auth_type and the secret store")
    if parts.fragment or any(c.isspace() for c in value):
        raise ValueError(f"{name} must not contain whitespace or a #fragment")
    return value


class PaginationSpec(Section):
    """How to walk the pages of a response."""

    type: PaginationType = "none"
    """none | page_number | offset | cursor | next_url | link_header"""
    page_param: str = "page"
    """page_number: query parameter carrying the page number"""
    start_page: int = Field(default=1, ge=0)
    """page_number: number of the first page"""
    size_param: str | None = None
    """query parameter carrying the page size (e.g. per_page)"""
    page_size: int | None = Field(default=None, ge=1)
    """records per page (needed by offset)"""
    offset_param: str = "offset"
    """offset: query parameter carrying the offset"""
    limit_param: str = "limit"
    """offset: query parameter carrying the page size"""
    cursor_param: str = "cursor"
    """cursor: query parameter carrying the cursor"""
    cursor_path: JMESPath | None = None
    """cursor: JMESPath of the next cursor in the JSON body"""
    next_url_path: JMESPath | None = None
    """next_url: JMESPath of the next page's URL in the JSON body"""
    records_path: JMESPath | None = None
    """JMESPath of the records array (an empty or short page ends the walk)"""
    has_more_path: JMESPath | None = None
    """JMESPath of a boolean telling whether more pages follow"""
    total_path: JMESPath | None = None
    """JMESPath of the total record count"""
    max_pages: int = Field(default=1000, ge=1, le=100_000)
    """safety limit on pages per request"""
    concurrency: int = Field(default=1, ge=1, le=32)
    """page_number / offset with page_size and total_path: once the first page tells the total,
    up to this many of the remaining pages are fetched at once (1: one after the other)"""

    @model_validator(mode="after")
    def _needs(self) -> PaginationSpec:
        issues = []
        if self.type == "cursor" and not self.cursor_path:
            issues.append((("cursor_path",), "cursor pagination needs cursor_path (a JMESPath into the response)"))
        if self.type == "next_url" and not self.next_url_path:
            issues.append((("next_url_path",), "next_url pagination needs next_url_path (a JMESPath)"))
        if self.type == "offset" and not self.page_size:
            issues.append((("page_size",), "offset pagination needs page_size"))
        raise_issues(issues)
        return self


_AUTH_NEEDS: dict[str, tuple[str, ...]] = {
    "api_key": ("secret_key",),
    "bearer": ("secret_key",),
    "basic": ("username_secret_key", "password_secret_key"),
    "oauth2_client_credentials": ("token_url", "client_id_secret_key", "client_secret_secret_key"),
}


class RequestSpec(Section):
    """The HTTP request that fetches the source (templates allowed where noted)."""

    method: HttpMethod = "GET"
    base_url: str
    """absolute http(s) URL; templates allowed in its path and query, never in scheme or host"""
    path: str = ""
    """template appended to base_url"""
    headers: dict[str, str] = Field(default_factory=dict)
    """header name -> template"""
    parameters: dict[str, str] = Field(default_factory=dict)
    """query parameter -> template (values are URL-encoded)"""
    body: Any = None
    """JSON body (POST); string leaves may be templates"""
    auth_type: AuthType = "none"
    """none | api_key | bearer | basic | oauth2_client_credentials"""
    secret_store: str = "secretstore"
    """Dapr secret store component holding the credentials"""
    secret_key: str | None = None
    """api_key / bearer: the secret's key in the store"""
    auth_header: str = "X-API-Key"
    """api_key: header name"""
    auth_in: Literal["header", "query"] = "header"
    """api_key: send it in a header or in the query string"""
    auth_query_param: str | None = "api_key"
    """api_key with auth_in query: the query parameter"""
    username_secret_key: str | None = None
    """basic: secret key of the user name"""
    password_secret_key: str | None = None
    """basic: secret key of the password"""
    token_url: str | None = None
    """oauth2_client_credentials: token endpoint"""
    client_id_secret_key: str | None = None
    """oauth2_client_credentials: secret key of the client id"""
    client_secret_secret_key: str | None = None
    """oauth2_client_credentials: secret key of the client secret"""
    scope: str | None = None
    """oauth2_client_credentials: requested scope"""
    timeout_seconds: float = Field(default=30, gt=0, le=300)
    """per-request timeout"""
    max_response_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    """limit on the decoded response size"""
    max_redirects: int = Field(default=5, ge=0, le=20)
    allow_private_hosts: list[str] = Field(default_factory=list)
    """SSRF allowlist: hostnames or CIDRs admitted although private or loopback"""
    rate_limit_per_second: float | None = Field(default=None, gt=0)
    """optional request rate limit"""
    pagination: PaginationSpec = Field(default_factory=PaginationSpec)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return _http_url(value, "base_url")

    @field_validator("token_url")
    @classmethod
    def _token_url(cls, value: str | None) -> str | None:
        if value is not None and ("{" in value or "}" in value):
            raise ValueError("token_url cannot hold templates")
        return None if value is None else _http_url(value, "token_url")

    @field_validator("headers")
    @classmethod
    def _header_names(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [name for name in value if not _HEADER_NAME.fullmatch(name)]
        if bad:
            raise ValueError(f"invalid header name {bad[0]!r}: use letters, digits and - _ . only")
        return value

    @field_validator("body")
    @classmethod
    def _json_body(cls, value: Any) -> Any:
        problem = _not_json(value, "")
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("allow_private_hosts")
    @classmethod
    def _allow(cls, values: list[str]) -> list[str]:
        for v in values:
            if "/" in v:
                try:
                    ipaddress.ip_network(v, strict=False)
                except ValueError:
                    raise ValueError(f"{v!r} is neither a hostname nor a CIDR network") from None
        return values

    @model_validator(mode="after")
    def _auth(self) -> RequestSpec:
        issues = [
            ((name,), f"auth_type {self.auth_type} needs {name}")
            for name in _AUTH_NEEDS.get(self.auth_type, ())
            if not getattr(self, name)
        ]
        if self.auth_type == "api_key" and self.auth_in == "query" and not self.auth_query_param:
            issues.append((("auth_query_param",), "api_key with auth_in: query needs auth_query_param"))
        if self.auth_type == "api_key" and self.auth_in == "header" and not _HEADER_NAME.fullmatch(self.auth_header):
            issues.append((("auth_header",), f"invalid header name {self.auth_header!r}"))
        raise_issues(issues)
        return self

    def templates(self) -> list[tuple[tuple[str, ...], str]]:
        """Every string that may hold a template, with its path inside the request."""
        found: list[tuple[tuple[str, ...], str]] = [(("base_url",), self.base_url), (("path",), self.path)]
        found += [(("parameters", k), v) for k, v in self.parameters.items()]
        found += [(("headers", k), v) for k, v in self.headers.items()]

        def walk(value: Any, path: tuple[str, ...]) -> None:
            if isinstance(value, str):
                found.append((path, value))
            elif isinstance(value, dict):
                for k, v in value.items():
                    walk(v, (*path, str(k)))
            elif isinstance(value, list):
                for i, v in enumerate(value):
                    walk(v, (*path, str(i)))

        walk(self.body, ("body",))
        return found
