"""A fetch job → documents: one request and its pages, or a bounded fan-out over the items an
MCP tool returns.

Each unit (the single request, or one item) walks its pages one after the other; every
page becomes a ``FetchedDocument`` (``page-3``, ``region=north/page-1``). When the first page
tells how many there are (``Paginator.rest``), the others are fetched at once, at most
``pagination.concurrency`` of a unit in flight. Across units an
``asyncio.Semaphore(iteration.concurrency)`` bounds the requests in flight; it is held for
the HTTP exchange only, not while waiting for a retry, the rate limit or the sink. A page
whose attempts all fail fails its unit, which is recorded and skipped: the other units go
on. Error texts are masked of every secret before they leave (see ``domain.errors`` for
which errors are retried).
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
import structlog

from collection_model.domain.errors import HttpStatusError
from collection_model.domain.iteration import ItemListingError, item_keys
from collection_model.domain.pagination import Paginator, RequestParts, ResponseView
from collection_model.domain.rate_limit import TokenBucket
from collection_model.domain.retry_policy import retry_after_seconds
from collection_model.domain.templating import Place, TemplateContext, build_url, render, render_body, with_params
from collection_model.service_layer.auth import Authenticator
from collection_model.service_layer.fetch_metrics import MeteredHttp, count_item, counting_sleep
from collection_model.service_layer.fetch_outcome import FetchJob, FetchOutcome, FetchUnit, ItemFailure
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
from headwater.config import IterationSpec, RequestSpec

__all__ = ["FetchJob", "FetchOutcome", "FetchService", "ItemFailure"]

log = structlog.get_logger(__name__)


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
            units = [FetchUnit("", {}, {})]
            concurrency = job.request.pagination.concurrency  # its pages, when they are known ahead
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

    async def _list_units(self, iteration: IterationSpec, window: tuple[datetime, datetime] | None) -> list[FetchUnit]:
        items = await list_items(self._items, iteration, window)
        keys = item_keys(iteration.foreach, items)
        return [FetchUnit(key, item, {iteration.foreach: item}) for key, item in zip(keys, items, strict=True)]

    async def _fetch_unit(
        self, job: FetchJob, unit: FetchUnit, gate: asyncio.Semaphore, sink: DocumentSink, outcome: FetchOutcome
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
            await self._emit(unit, parts, response, sink, outcome)
            try:
                view = ResponseView(url, _json_body(response, job.request), response.headers)
                rest = paginator.rest(parts, view) if parts.page == 1 else None
                if rest is not None:
                    await self._fetch_rest(job, unit, rest, gate, sink, outcome)
                    break
                parts = paginator.next_request(parts, view)
            except _PageFailed as failed:
                self._failed(job, label, failed.error, outcome)
                return
            except Exception as exc:
                self._failed(job, label, exc, outcome)
                return
        if paginator.stop_reason == "max_pages":
            log.warning("pagination stopped at max_pages", source_id=job.source_id, item=label)
        outcome.fetched += 1
        count_item(job.source_id, succeeded=True)

    async def _emit(
        self, unit: FetchUnit, parts: RequestParts, response: HttpResponse, sink: DocumentSink, outcome: FetchOutcome
    ) -> None:
        linkage = {**unit.linkage, "page": parts.page}
        await sink.emit(FetchedDocument(unit.document_key(parts.page), response.body, response.content_type, linkage))
        outcome.pages += 1

    async def _fetch_rest(
        self,
        job: FetchJob,
        unit: FetchUnit,
        rest: list[RequestParts],
        gate: asyncio.Semaphore,
        sink: DocumentSink,
        outcome: FetchOutcome,
    ) -> None:
        """The pages after the first, known in advance (``Paginator.rest``), ``pagination.concurrency``
        at a time. A page that fails stops the others (``_PageFailed``, the unit fails); the
        sink's own error propagates."""
        pages = asyncio.Semaphore(job.request.pagination.concurrency)

        async def one(parts: RequestParts) -> None:
            try:
                async with pages:
                    response, _ = await self._fetch_page(job, unit, parts, gate)
            except Exception as exc:
                raise _PageFailed(exc) from exc
            await self._emit(unit, parts, response, sink, outcome)

        try:
            async with asyncio.TaskGroup() as group:
                for parts in rest:
                    group.create_task(one(parts))
        except BaseExceptionGroup as failed:
            raise next((e for e in failed.exceptions if not isinstance(e, _PageFailed)), failed.exceptions[0]) from None

    def _failed(self, job: FetchJob, label: str, exc: Exception, outcome: FetchOutcome) -> None:
        error = self._masker.mask(f"{type(exc).__name__}: {exc}")
        outcome.failures.append(ItemFailure(label, error))
        count_item(job.source_id, succeeded=False)
        log.warning("item skipped", source_id=job.source_id, task_id=job.task_id, item=label, error=error)

    async def _fetch_page(
        self, job: FetchJob, unit: FetchUnit, parts: RequestParts, gate: asyncio.Semaphore
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


class _PageFailed(Exception):
    """A page fetched ahead failed; ``error`` says why (its unit fails, as when walking)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _json_body(response: HttpResponse, request: RequestSpec) -> Any:
    """The parsed body, for pagination to look into."""
    if request.pagination.type == "none" or "json" not in response.content_type:
        return None
    try:
        return orjson.loads(response.body)  # several times json's speed on a page of records
    except orjson.JSONDecodeError:
        return None


def _reason(exc: Exception) -> str:
    """An ItemListingError says it all; anything else is prefixed with its type."""
    return str(exc) if isinstance(exc, ItemListingError) else f"{type(exc).__name__}: {exc}"


def _shown(url: str) -> str:
    """A URL for messages: no query string (it may hold an API key)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
