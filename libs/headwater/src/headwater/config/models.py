"""The source config contract: what an operator writes in YAML (docs/source-config-shape.md).

Every section forbids unknown keys (a typo is an error, never silently ignored) and is
frozen. Cross-field rules report every problem of a section at once, each at its own
path (``errors.raise_issues``), so the loader can point at the exact line. The attribute
docstrings become the descriptions of schemas/source-config.schema.json.
"""

from __future__ import annotations

import codecs
import ipaddress
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from headwater.config.durations import Duration
from headwater.config.errors import raise_issues
from headwater.config.schedule import SCHEDULE_PATTERN, check_schedule, check_timezone
from headwater.config.templates import check_template

__all__ = [
    "AuthType",
    "BackoffKind",
    "EventsSpec",
    "FieldRule",
    "FieldType",
    "HistoryMode",
    "HttpMethod",
    "Ingestion",
    "IngestionMode",
    "IterationSpec",
    "MapSpec",
    "PaginationSpec",
    "PaginationType",
    "ParseFormat",
    "ParseSpec",
    "RequestSpec",
    "RetrySpec",
    "SourceConfig",
    "StoreSpec",
    "ValidateSpec",
    "WindowSpec",
]

AuthType = Literal["none", "api_key", "bearer", "basic", "oauth2_client_credentials"]
PaginationType = Literal["none", "page_number", "offset", "cursor", "next_url", "link_header"]
ParseFormat = Literal["json", "ndjson", "csv", "xlsx", "sheets_values"]
HistoryMode = Literal["none", "scd2"]
IngestionMode = Literal["scheduled_pull", "push"]
FieldType = Literal["string", "integer", "number", "boolean", "date", "datetime"]
HttpMethod = Literal["GET", "POST"]
BackoffKind = Literal["exponential", "constant"]

SLUG = r"^[a-z0-9][a-z0-9_-]{0,62}$"
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

Timezone = Annotated[str, AfterValidator(check_timezone)]


class _Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        use_attribute_docstrings=True,
    )


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


class PaginationSpec(_Section):
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
    cursor_path: str | None = None
    """cursor: JMESPath of the next cursor in the JSON body"""
    next_url_path: str | None = None
    """next_url: JMESPath of the next page's URL in the JSON body"""
    records_path: str | None = None
    """JMESPath of the records array (an empty or short page ends the walk)"""
    has_more_path: str | None = None
    """JMESPath of a boolean telling whether more pages follow"""
    total_path: str | None = None
    """JMESPath of the total record count"""
    max_pages: int = Field(default=1000, ge=1, le=100_000)
    """safety limit on pages per request"""

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


class RequestSpec(_Section):
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


class IterationSpec(_Section):
    """Fan out one request per item returned by an MCP tool."""

    foreach: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """what the items are (documentation; templates use {item.<field>})"""
    source_mcp: str = Field(min_length=1)
    """Dapr app id of the MCP server"""
    source_tool: str = Field(min_length=1)
    """tool returning the items"""
    arguments: dict[str, Any] = Field(default_factory=dict)
    """arguments passed to the tool"""
    concurrency: int = Field(default=5, ge=1, le=100)
    """requests in flight at once"""


class RetrySpec(_Section):
    """Retries of a failing request."""

    max_attempts: int = Field(default=3, ge=1, le=10)
    backoff: BackoffKind = "exponential"
    initial_seconds: float = Field(default=1.0, gt=0, le=300)
    max_seconds: float = Field(default=30.0, gt=0, le=3600)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class WindowSpec(_Section):
    """Windowed sources: the timeline is cut into slices, each fetched once."""

    cadence: Duration
    """how often new windows become due (30s, 15m, 1h, 1d)"""
    start: Annotated[datetime, AfterValidator(_utc)]
    """beginning of the first window (UTC when no zone is given)"""
    lookback: Duration = Field(default="0s", validate_default=True)
    """re-fetch this much before the last window (late data)"""
    slice: Duration
    """length of one window"""
    max_slices_per_run: int = Field(default=24, ge=1, le=10_000)
    """catch-up limit per run"""
    timezone: Timezone = "UTC"
    """IANA zone in which windows are aligned"""

    @model_validator(mode="after")
    def _positive(self) -> WindowSpec:
        raise_issues(
            ((name,), f"{name} must be longer than 0s")
            for name in ("cadence", "slice")
            if getattr(self, name).total_seconds() <= 0
        )
        return self


class Ingestion(_Section):
    """When and how the source is fetched."""

    mode: IngestionMode = "scheduled_pull"
    """scheduled_pull (Headwater fetches on a schedule) | push (files are uploaded)"""
    schedule: str | None = Field(default=None, pattern=SCHEDULE_PATTERN)
    """5-field cron, @every <duration>, @hourly, @daily, @weekly, @monthly, @yearly"""
    timezone: Timezone = "UTC"
    """IANA zone the cron fields are read in"""
    request: RequestSpec | None = None
    iteration: IterationSpec | None = None
    retry: RetrySpec = Field(default_factory=RetrySpec)
    window: WindowSpec | None = None

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule(cls, value: Any) -> Any:
        return check_schedule(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _mode_and_templates(self) -> Ingestion:
        issues: list[tuple[tuple[str, ...], str]] = []
        if self.mode == "scheduled_pull":
            if not self.schedule:
                issues.append((("schedule",), "mode scheduled_pull needs a schedule"))
            if self.request is None:
                issues.append((("request",), "mode scheduled_pull needs a request"))
        else:
            issues += [
                ((name,), f"mode push takes no {name} (files are uploaded)")
                for name in ("schedule", "request", "iteration", "window")
                if getattr(self, name) is not None
            ]
        if self.request is not None:
            for path, text in self.request.templates():
                problems = check_template(
                    text, has_iteration=self.iteration is not None, has_window=self.window is not None
                )
                issues += [(("request", *path), problem) for problem in problems]
        raise_issues(issues)
        return self


class ParseSpec(_Section):
    """How the fetched document becomes records."""

    format: ParseFormat
    """json | ndjson | csv | xlsx | sheets_values"""
    records_path: str | None = None
    """json: JMESPath selecting the records list"""
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    """csv: detected when null"""
    encoding: str | None = None
    """csv: detected when null"""
    sheet: str | None = None
    """xlsx: sheet name (the first sheet when null)"""
    header_row: int = Field(default=1, ge=1)
    """csv / xlsx / sheets_values: 1-based row of the headers"""

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown encoding {value!r}") from None
        return value


class MapSpec(_Section):
    """How source columns become the record's fields."""

    fields: dict[str, str] = Field(default_factory=dict)
    """target field -> source column (tables) or JMESPath (json); always wins over fuzzy matching"""
    fuzzy: bool = True
    """fuzzy-match remaining headers onto standard_fields"""
    fuzzy_threshold: int = Field(default=85, ge=0, le=100)
    standard_fields: list[str] = Field(default_factory=list)
    """the fields records should have, e.g. [sku, name, price, currency]"""
    keep_unmapped_as: str = "characteristics"
    """field collecting the columns that were not mapped"""


class FieldRule(_Section):
    """A check on one field of every record."""

    type: FieldType = "string"
    """string | integer | number | boolean | date | datetime"""
    required: bool = False
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    """regular expression the value must match"""
    enum: list[Any] | None = None
    """the allowed values"""

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"pattern is not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _bounds(self) -> FieldRule:
        issues = []
        if self.min is not None and self.max is not None and self.min > self.max:
            issues.append((("min",), f"min ({self.min:g}) is greater than max ({self.max:g})"))
        if self.enum is not None and not self.enum:
            issues.append((("enum",), "enum needs at least one value"))
        raise_issues(issues)
        return self


class ValidateSpec(_Section):
    """Record validation: field name -> rule."""

    fields: dict[str, FieldRule] = Field(default_factory=dict)


class StoreSpec(_Section):
    """How records are kept."""

    key: list[str] = Field(default_factory=list)
    """natural key fields (required when parse is present)"""
    history: HistoryMode = "scd2"
    """none (overwrite) | scd2 (keep every version)"""


class EventsSpec(_Section):
    """Change events published after each stored batch."""

    enabled: bool = True
    records_changed_batch: int = Field(default=500, ge=1, le=10_000)


class SourceConfig(_Section):
    """One data source. ``map`` and ``validate`` are ``map_`` and ``validate_`` in Python."""

    source_id: str = Field(pattern=SLUG)
    """slug: lowercase letters, digits, '-' and '_'"""
    description: str = ""
    enabled: bool = True
    ingestion: Ingestion
    parse: ParseSpec | None = None
    map_: MapSpec | None = Field(default=None, alias="map")
    validate_: ValidateSpec | None = Field(default=None, alias="validate")
    store: StoreSpec | None = None
    events: EventsSpec | None = None

    @model_validator(mode="after")
    def _store_key(self) -> SourceConfig:
        if self.parse is not None and (self.store is None or not self.store.key):
            raise_issues([(("store", "key"), "a source with a parse section needs store.key (the natural key fields)")])
        return self
