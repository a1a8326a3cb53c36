"""The source config contract: what an operator writes in YAML (docs/source-config-shape.md).

Every section forbids unknown keys (a typo is an error, never silently ignored). Validators
that can point at a more precise place than their section raise ``ValueError`` with a
message ``"@<relative.path>: <text>"``; ``issues_from_validation`` turns that into the
dotted path, which the YAML loader then maps to a line and column.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from headwater.config.durations import Duration
from headwater.config.schedule import check_schedule
from headwater.config.templates import check_template

__all__ = [
    "AuthType",
    "EventsSpec",
    "FieldRule",
    "HistoryMode",
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

SLUG = r"^[a-z0-9][a-z0-9_-]{0,62}$"
TEMPLATE_IN = re.compile(r"[{}]")


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {value!r}: use an IANA name like UTC or Europe/Berlin") from None
    return value


Timezone = Annotated[str, AfterValidator(_zone)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class PaginationSpec(_Section):
    type: PaginationType = "none"
    page_param: str = "page"
    start_page: int = 1
    size_param: str | None = None
    page_size: int | None = Field(default=None, ge=1)
    offset_param: str = "offset"
    limit_param: str = "limit"
    cursor_param: str = "cursor"
    cursor_path: str | None = None
    next_url_path: str | None = None
    records_path: str | None = None
    has_more_path: str | None = None
    total_path: str | None = None
    max_pages: int = Field(default=1000, ge=1, le=100_000)

    @model_validator(mode="after")
    def _needs(self) -> PaginationSpec:
        if self.type == "cursor" and not self.cursor_path:
            raise ValueError("@cursor_path: cursor pagination needs cursor_path (a JMESPath into the response)")
        if self.type == "next_url" and not self.next_url_path:
            raise ValueError("@next_url_path: next_url pagination needs next_url_path (a JMESPath)")
        if self.type == "offset" and not self.page_size:
            raise ValueError("@page_size: offset pagination needs page_size")
        return self


class RequestSpec(_Section):
    method: Literal["GET", "POST"] = "GET"
    base_url: str
    path: str = ""
    headers: dict[str, str] = Field(default_factory=dict)
    parameters: dict[str, str] = Field(default_factory=dict)
    body: Any = None
    auth_type: AuthType = "none"
    secret_store: str = "secretstore"
    secret_key: str | None = None
    auth_header: str = "X-API-Key"
    auth_in: Literal["header", "query"] = "header"
    auth_query_param: str | None = "api_key"
    username_secret_key: str | None = None
    password_secret_key: str | None = None
    token_url: str | None = None
    client_id_secret_key: str | None = None
    client_secret_secret_key: str | None = None
    scope: str | None = None
    timeout_seconds: float = Field(default=30, gt=0, le=300)
    max_response_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    max_redirects: int = Field(default=5, ge=0, le=20)
    allow_private_hosts: list[str] = Field(default_factory=list)
    rate_limit_per_second: float | None = Field(default=None, gt=0)
    pagination: PaginationSpec = Field(default_factory=PaginationSpec)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base_url must be an absolute http(s) URL, got {value!r}")
        if TEMPLATE_IN.search(parts.scheme + "://" + parts.netloc):
            raise ValueError("templates are not allowed in the scheme or host of base_url")
        return value

    @field_validator("token_url")
    @classmethod
    def _token_url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"token_url must be an absolute http(s) URL, got {value!r}")
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
        needs = {
            "api_key": ["secret_key"],
            "bearer": ["secret_key"],
            "basic": ["username_secret_key", "password_secret_key"],
            "oauth2_client_credentials": ["token_url", "client_id_secret_key", "client_secret_secret_key"],
        }.get(self.auth_type, [])
        for name in needs:
            if not getattr(self, name):
                raise ValueError(f"@{name}: auth_type {self.auth_type} needs {name}")
        if self.auth_type == "api_key" and self.auth_in == "query" and not self.auth_query_param:
            raise ValueError("@auth_query_param: api_key with auth_in: query needs auth_query_param")
        return self


class IterationSpec(_Section):
    foreach: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    source_mcp: str = Field(min_length=1)
    source_tool: str = Field(min_length=1)
    arguments: dict[str, Any] = Field(default_factory=dict)
    concurrency: int = Field(default=5, ge=1, le=100)


class RetrySpec(_Section):
    max_attempts: int = Field(default=3, ge=1, le=10)
    backoff: Literal["exponential", "constant"] = "exponential"
    initial_seconds: float = Field(default=1.0, gt=0, le=300)
    max_seconds: float = Field(default=30.0, gt=0, le=3600)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class WindowSpec(_Section):
    cadence: Duration
    start: Annotated[datetime, AfterValidator(_aware)]
    lookback: Duration = Field(default="0s", validate_default=True)
    slice: Duration
    max_slices_per_run: int = Field(default=24, ge=1, le=10_000)
    timezone: Timezone = "UTC"

    @model_validator(mode="after")
    def _positive(self) -> WindowSpec:
        for name in ("cadence", "slice"):
            if getattr(self, name).total_seconds() <= 0:
                raise ValueError(f"@{name}: {name} must be longer than 0s")
        return self


class Ingestion(_Section):
    mode: IngestionMode = "scheduled_pull"
    schedule: str | None = None
    timezone: Timezone = "UTC"
    request: RequestSpec | None = None
    iteration: IterationSpec | None = None
    retry: RetrySpec = Field(default_factory=RetrySpec)
    window: WindowSpec | None = None

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        return None if value is None else check_schedule(value)

    @model_validator(mode="after")
    def _mode_and_templates(self) -> Ingestion:
        if self.mode == "scheduled_pull":
            if not self.schedule:
                raise ValueError("@schedule: mode scheduled_pull needs a schedule")
            if self.request is None:
                raise ValueError("@request: mode scheduled_pull needs a request")
        else:
            for name in ("schedule", "request", "iteration", "window"):
                if getattr(self, name) is not None:
                    raise ValueError(f"@{name}: mode push takes no {name} (files are uploaded)")
        if self.request is not None:
            for path, text in _template_strings(self.request):
                problems = check_template(
                    text, has_iteration=self.iteration is not None, has_window=self.window is not None
                )
                if problems:
                    raise ValueError(f"@request.{path}: {problems[0]}")
        return self


def _template_strings(request: RequestSpec) -> list[tuple[str, str]]:
    found = [("path", request.path)]
    found += [(f"parameters.{k}", v) for k, v in request.parameters.items()]
    found += [(f"headers.{k}", v) for k, v in request.headers.items()]

    def walk(value: Any, path: str) -> None:
        if isinstance(value, str):
            found.append((path, value))
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{path}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}.{i}")

    walk(request.body, "body")
    return found


class ParseSpec(_Section):
    format: ParseFormat
    records_path: str | None = None
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    encoding: str | None = None
    sheet: str | None = None
    header_row: int = Field(default=1, ge=1)

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str | None) -> str | None:
        import codecs

        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown encoding {value!r}") from None
        return value


class MapSpec(_Section):
    fields: dict[str, str] = Field(default_factory=dict)
    fuzzy: bool = True
    fuzzy_threshold: int = Field(default=85, ge=0, le=100)
    standard_fields: list[str] = Field(default_factory=list)
    keep_unmapped_as: str = "characteristics"


class FieldRule(_Section):
    type: FieldType = "string"
    required: bool = False
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    enum: list[Any] | None = None

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
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"@min: min ({self.min:g}) is greater than max ({self.max:g})")
        if self.enum is not None and not self.enum:
            raise ValueError("@enum: enum needs at least one value")
        return self


class ValidateSpec(_Section):
    fields: dict[str, FieldRule] = Field(default_factory=dict)


class StoreSpec(_Section):
    key: list[str] = Field(default_factory=list)
    history: HistoryMode = "scd2"


class EventsSpec(_Section):
    enabled: bool = True
    records_changed_batch: int = Field(default=500, ge=1, le=10_000)


class SourceConfig(_Section):
    """One data source. ``map`` and ``validate`` are ``map_`` and ``validate_`` in Python."""

    source_id: str = Field(pattern=SLUG, description="a slug: lowercase letters, digits, '-' and '_'")
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
            raise ValueError("@store.key: a source with a parse section needs store.key (the natural key fields)")
        return self
