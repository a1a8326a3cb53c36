"""``ingestion``: when and how a source is fetched (schedule, fan-out, retries, windows, incremental cursor)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from headwater.config.durations import Duration
from headwater.config.errors import raise_issues
from headwater.config.expressions import JMESPath
from headwater.config.incremental import IncrementalSpec
from headwater.config.request import RequestSpec
from headwater.config.schedule import SCHEDULE_PATTERN, check_schedule, check_timezone
from headwater.config.section import Section
from headwater.config.templates import check_template

__all__ = [
    "BackoffKind",
    "IncrementalSpec",
    "Ingestion",
    "IngestionMode",
    "IterationSpec",
    "RetrySpec",
    "WindowSpec",
]

IngestionMode = Literal["scheduled_pull", "push"]
BackoffKind = Literal["exponential", "constant"]

Timezone = Annotated[str, AfterValidator(check_timezone)]


class IterationSpec(Section):
    """Fan out one request per item returned by an MCP tool (Streamable HTTP, through Dapr
    service invocation of ``source_mcp``)."""

    foreach: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """what the items are (documentation; templates use {item.<field>})"""
    source_mcp: str = Field(min_length=1)
    """Dapr app id of the MCP server"""
    source_tool: str = Field(min_length=1)
    """tool returning the items"""
    arguments: dict[str, Any] = Field(default_factory=dict)
    """arguments passed to the tool; string values may use {window.from} and {window.to}"""
    items_path: JMESPath = ""
    """JMESPath selecting the item list in the tool's structuredContent; empty: `result`, `items`
    or the content itself when it is a list, else the tool's JSON text content"""
    timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    """longest wait for the MCP server (connect, initialize, the tool call)"""
    endpoint_path: str = Field(default="/mcp", pattern=r"^/[A-Za-z0-9._~/-]*$")
    """the MCP endpoint's path on the server app"""
    concurrency: int = Field(default=5, ge=1, le=500)
    """requests in flight at once"""

    def template_issues(self, *, has_window: bool) -> list[tuple[tuple[str, ...], str]]:
        """Problems of the templated ``arguments`` (no ``{item.*}``: items are what the tool returns)."""
        issues: list[tuple[tuple[str, ...], str]] = []
        for path, text in _string_leaves(self.arguments, ("arguments",)):
            for problem in check_template(text, has_iteration=False, has_window=has_window):
                if "needs an ingestion.iteration block" in problem:
                    problem = problem.replace("needs an ingestion.iteration block", "has no value in tool arguments")
                issues.append((path, problem))
        return issues


def _string_leaves(value: Any, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], str]]:
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _string_leaves(item, (*path, str(key)))]
    if isinstance(value, list):
        return [leaf for n, item in enumerate(value) for leaf in _string_leaves(item, (*path, str(n)))]
    return []


class RetrySpec(Section):
    """Retries of a failing request."""

    max_attempts: int = Field(default=3, ge=1, le=10)
    backoff: BackoffKind = "exponential"
    initial_seconds: float = Field(default=1.0, gt=0, le=300)
    max_seconds: float = Field(default=30.0, gt=0, le=3600)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class WindowSpec(Section):
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
    max_attempts: int = Field(default=5, ge=1, le=100)
    """tries of a failed window (the first included) before it is marked dead; later runs re-plan it first"""
    retry_backoff: Duration = Field(default="1m", validate_default=True)
    """wait after a window's first failure before it is planned again; doubles after each further failure"""
    retry_backoff_max: Duration = Field(default="6h", validate_default=True)
    """longest wait between two tries of a window"""

    @model_validator(mode="after")
    def _positive(self) -> WindowSpec:
        issues = [
            ((name,), f"{name} must be longer than 0s")
            for name in ("cadence", "slice")
            if getattr(self, name).total_seconds() <= 0
        ]
        if self.retry_backoff_max < self.retry_backoff:
            issues.append((("retry_backoff_max",), "retry_backoff_max must not be shorter than retry_backoff"))
        raise_issues(issues)
        return self


class Ingestion(Section):
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
    incremental: IncrementalSpec | None = None
    """scheduled_pull without window or iteration: send the highest stored cursor value as a query parameter"""

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
                for name in ("schedule", "request", "iteration", "window", "incremental")
                if getattr(self, name) is not None
            ]
        issues += self._incremental_issues()
        if self.iteration is not None:
            has_window = self.window is not None
            issues += [
                (("iteration", *path), problem)
                for path, problem in self.iteration.template_issues(has_window=has_window)
            ]
        if self.request is not None:
            for path, text in self.request.templates():
                problems = check_template(
                    text, has_iteration=self.iteration is not None, has_window=self.window is not None
                )
                issues += [(("request", *path), problem) for problem in problems]
        raise_issues(issues)
        return self

    def _incremental_issues(self) -> list[tuple[tuple[str, ...], str]]:
        """One cursor per source, in a query parameter of its own."""
        if self.incremental is None or self.mode != "scheduled_pull":
            return []
        issues: list[tuple[tuple[str, ...], str]] = []
        if self.window is not None:
            issues.append(
                (("incremental",), "incremental cannot be combined with window (a window already says what to fetch)")
            )
        if self.iteration is not None:
            message = "incremental cannot be combined with iteration (one cursor per source, not per item)"
            issues.append((("incremental",), message))
        taken = _query_params(self.request) if self.request is not None else {}
        param = self.incremental.param
        if param in taken:
            issues.append((("incremental", "param"), f"param {param!r} is already {taken[param]}"))
        return issues


def _query_params(request: RequestSpec) -> dict[str, str]:
    """The query parameters a request already sets, and by which key."""
    taken = {name: "set in request.parameters" for name in request.parameters}
    pages = request.pagination
    by_type = {
        "page_number": ("page_param", "size_param"),
        "offset": ("offset_param", "limit_param"),
        "cursor": ("cursor_param", "size_param"),
    }
    for key in by_type.get(pages.type, ()):
        name = getattr(pages, key)
        if name:
            taken.setdefault(name, f"the pagination's {key}")
    if request.auth_type == "api_key" and request.auth_in == "query" and request.auth_query_param:
        taken.setdefault(request.auth_query_param, "the auth_query_param")
    return taken
