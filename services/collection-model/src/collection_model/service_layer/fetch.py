"""A fetch job → documents: one request and its pages, or a bounded fan-out over the items an
MCP tool returns.

Each unit (the single request, or one item) walks its pages one after the other; every
page becomes a ``FetchedDocument`` (``page-3``, ``region=north/page-1``). Across units an
``asyncio.Semaphore(iteration.concurrency)`` bounds the requests in flight; it is held for
the HTTP exchange only, not while waiting for a retry, the rate limit or the sink. A page
whose attempts all fail fails its unit, which is recorded and skipped: the other units go
on. Error texts are masked of every secret before they leave (see ``domain.errors`` for
which errors are retried).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import structlog

from collection_model.domain.errors import HttpStatusError
from collection_model.domain.iteration import ItemListingError, item_keys
from collection_model.domain.pagination import Paginator, RequestParts, ResponseView
from collection_model.domain.rate_limit import TokenBucket
from collection_model.domain.retry_policy import retry_after_seconds
from collection_model.domain.templating import Place, TemplateContext, build_url, render, render_body, with_params
from collection_model.service_layer.auth import Authenticator
from collection_model.service_layer.fetch_metrics import MeteredHttp, count_item, counting_sleep
from collection_model.service_layer.listing import list_items
from collection_model.service_layer.ports import (
    Clock,
    DocumentSink,
    FetchedDocument,
    HttpClient,
    HttpResponse,
    ItemSource,
)
from collection_model.service_layer.retrying import call_with_retries
from headwater.config import IterationSpec, RequestSpec, RetrySpec

__all__ = ["FetchJob", "FetchOutcome", "FetchService", "ItemFailure"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class FetchJob:
    """What to fetch for one task (from the work item and the source config version)."""

    source_id: str
    task_id: str
    request: RequestSpec
    retry: RetrySpec = field(default_factory=RetrySpec)
    iteration: IterationSpec | None = None
    window: tuple[datetime, datetime] | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    """query parameters added to every request built from the template (the incremental cursor)"""


@dataclass(frozen=True)
class ItemFailure:
    key: str
    error: str


@dataclass
class FetchOutcome:
    """``items`` units of work (1 without iteration), ``fetched`` of them completely, ``pages``
    documents emitted (also by units that failed on a later page)."""

    items: int = 0
    fetched: int = 0
    pages: int = 0
    failures: list[ItemFailure] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def documents(self) -> int:
        return self.pages

    @property
    def status(self) -> str:
        if not self.failures:
            return "succeeded"
        return "partial" if self.pages else "failed"

    def counts(self) -> dict[str, int]:
        """For ``TaskResult.counts``; the planner reads ``documents`` (results to expect from the worker)."""
        return {
            "items": self.items,
            "fetched": self.fetched,
            "failed": self.failed,
            "pages": self.pages,
            "documents": self.documents,
        }


@dataclass(frozen=True)
class _Unit:
    key: str  # "" for the single request, else "<foreach>=<item>"
    item: dict[str, Any]
    linkage: dict[str, Any]

    def document_key(self, page: int) -> str:
        return f"{self.key}/page-{page}" if self.key else f"page-{page}"


class FetchService:
    def __init__(
        self,
        http: HttpClient,
        items: ItemSource,
        auth: Authenticator,
        clock: Clock,
        *,
        platform_allowlist: Collection[str] = (),
    ) -> None:
        """``platform_allowlist`` is added to every source's ``allow_private_hosts``."""
        self._http = http
        self._items = items
        self._auth = auth
        self._masker = auth.masker
        self._clock = clock
        self._platform_allow = tuple(platform_allowlist)
        self._buckets: dict[tuple[str, float], TokenBucket] = {}

    async def run(self, job: FetchJob, sink: DocumentSink) -> FetchOutcome:
        outcome = FetchOutcome()
        if job.iteration is None:
            units = [_Unit("", {}, {})]
            concurrency = 1
        else:
            try:
                units = await self._list_units(job.iteration, job.window)
            except Exception as exc:
                error = self._masker.mask(f"listing items failed: {_reason(exc)}")
                outcome.failures.append(ItemFailure("*", error))
                log.warning("items not listed", source_id=job.source_id, task_id=job.task_id, error=error)
                return outcome
            concurrency = job.iteration.concurrency
        outcome.items = len(units)
        gate = asyncio.Semaphore(concurrency)
        try:
            async with asyncio.TaskGroup() as group:  # a sink failure cancels the other units
                for unit in units:
                    group.create_task(self._fetch_unit(job, unit, gate, sink, outcome))
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None  # callers map the sink's own error (e.g. DaprError → RETRY)
        return outcome

    async def _list_units(self, iteration: IterationSpec, window: tuple[datetime, datetime] | None) -> list[_Unit]:
        items = await list_items(self._items, iteration, window)
        keys = item_keys(iteration.foreach, items)
        return [_Unit(key, item, {iteration.foreach: item}) for key, item in zip(keys, items, strict=True)]

    async def _fetch_unit(
        self, job: FetchJob, unit: _Unit, gate: asyncio.Semaphore, sink: DocumentSink, outcome: FetchOutcome
    ) -> None:
        """Fetch errors fail this unit only; a sink error is the task's and propagates."""
        label = unit.key or "request"
        try:
            paginator = Paginator(job.request.pagination, job.request.base_url)
            parts: RequestParts | None = paginator.first()
        except Exception as exc:
            self._failed(job, label, exc, outcome)
            return
        while parts is not None:
            try:
                response, url = await self._fetch_page(job, unit, parts, gate)
            except Exception as exc:  # one unit's failure never stops the others
                self._failed(job, label, exc, outcome)
                return
            linkage = {**unit.linkage, "page": parts.page}
            await sink.emit(
                FetchedDocument(unit.document_key(parts.page), response.body, response.content_type, linkage)
            )
            outcome.pages += 1
            try:
                parts = paginator.next_request(
                    parts, ResponseView(url, _json_body(response, job.request), response.headers)
                )
            except Exception as exc:
                self._failed(job, label, exc, outcome)
                return
        if paginator.stop_reason == "max_pages":
            log.warning("pagination stopped at max_pages", source_id=job.source_id, item=label)
        outcome.fetched += 1
        count_item(job.source_id, succeeded=True)

    def _failed(self, job: FetchJob, label: str, exc: Exception, outcome: FetchOutcome) -> None:
        error = self._masker.mask(f"{type(exc).__name__}: {exc}")
        outcome.failures.append(ItemFailure(label, error))
        count_item(job.source_id, succeeded=False)
        log.warning("item skipped", source_id=job.source_id, task_id=job.task_id, item=label, error=error)

    async def _fetch_page(
        self, job: FetchJob, unit: _Unit, parts: RequestParts, gate: asyncio.Semaphore
    ) -> tuple[HttpResponse, str]:
        request = job.request
        linkage = {unit.key.partition("=")[0]: unit.key.partition("=")[2]} if unit.key else {}
        ctx = TemplateContext(item=unit.item, window=job.window, linkage={**linkage, "page": parts.page})
        headers = {name: render(value, ctx, Place.HEADER) for name, value in request.headers.items()}
        body = render_body(request.body, ctx)
        allowlist = (*self._platform_allow, *request.allow_private_hosts)
        sent: list[str] = []

        async def attempt() -> HttpResponse:
            response = await self._send(job, parts, ctx, headers, body, allowlist, gate, sent)
            if response.status == 401 and request.auth_type == "oauth2_client_credentials":
                self._auth.forget(request)  # the token was revoked early: one fresh token, at once
                response = await self._send(job, parts, ctx, headers, body, allowlist, gate, sent)
            if response.status >= 300:
                retry_after = retry_after_seconds(response.headers.get("retry-after"), self._clock.now())
                raise HttpStatusError(response.status, f"HTTP {response.status} from {_shown(sent[-1])}", retry_after)
            return response

        response = await call_with_retries(attempt, job.retry, counting_sleep(self._clock.sleep, job.source_id))
        return response, sent[-1]

    async def _send(
        self,
        job: FetchJob,
        parts: RequestParts,
        ctx: TemplateContext,
        headers: dict[str, str],
        body: Any,
        allowlist: tuple[str, ...],
        gate: asyncio.Semaphore,
        sent: list[str],
    ) -> HttpResponse:
        """One HTTP exchange with fresh credentials, after the rate limit, inside the gate."""
        request = job.request
        creds = await self._auth.credentials(request, allowlist)
        if parts.url is not None:
            url = with_params(parts.url, creds.params)
        else:
            extra = {**job.params, **parts.params, **creds.params}
            url = build_url(request.base_url, request.path, request.parameters, ctx, extra)
        sent.append(url)
        await self._throttle(job)
        async with gate:
            return await MeteredHttp(self._http, job.source_id, self._clock).request(
                request.method,
                url,
                headers={**headers, **creds.headers},
                json_body=body,
                timeout=request.timeout_seconds,
                max_bytes=request.max_response_bytes,
                max_redirects=request.max_redirects,
                allowlist=allowlist,
                credential_headers=tuple(creds.headers),
            )

    async def _throttle(self, job: FetchJob) -> None:
        rate = job.request.rate_limit_per_second
        if rate is None:
            return
        bucket = self._buckets.setdefault((job.source_id, rate), TokenBucket(rate))
        delay = bucket.delay(self._clock.monotonic())
        if delay > 0:
            await self._clock.sleep(delay)


def _json_body(response: HttpResponse, request: RequestSpec) -> Any:
    """The parsed body, for pagination to look into."""
    if request.pagination.type == "none" or "json" not in response.content_type:
        return None
    try:
        return json.loads(response.body)
    except ValueError:
        return None


def _reason(exc: Exception) -> str:
    """An ItemListingError says it all; anything else is prefixed with its type."""
    return str(exc) if isinstance(exc, ItemListingError) else f"{type(exc).__name__}: {exc}"


def _shown(url: str) -> str:
    """A URL for messages: no query string (it may hold an API key)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
