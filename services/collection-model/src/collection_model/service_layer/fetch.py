"""A work item → fetched documents: one request with its pagination, or a bounded fan-out
over the items an MCP tool returns.

A failed item is retried (exponential backoff with jitter, ``Retry-After`` honoured) and
then skipped; the others go on. Only connection errors, timeouts, 408, 429 and 5xx are
retried; any other 4xx fails at once. Error texts never carry a secret.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from collection_model.domain.pagination import Page, PageRequest, PaginationLoopError, Paginator
from collection_model.domain.rate_limit import TokenBucket
from collection_model.domain.retry_policy import backoff_seconds, is_retryable_status, retry_after_seconds
from collection_model.domain.ssrf import BlockedAddressError
from collection_model.domain.templating import TemplateContext, TemplateError, build_url, render
from collection_model.service_layer.auth import Authenticator
from collection_model.service_layer.ports import (
    DocumentSink,
    FetchedDocument,
    HttpClient,
    HttpResponse,
    ItemSource,
    Sleeper,
    TransientFetchError,
)
from headwater.config import IterationSpec, RequestSpec, RetrySpec
from headwater.edge.logging import secrets as masker
from headwater.telemetry import counter

__all__ = ["FetchFailedError", "FetchOutcome", "FetchService", "ItemFailure", "ResponseTooLargeError"]

log = structlog.get_logger(__name__)
ok_counter = counter("headwater.fetch.items_succeeded", "items (or single requests) fetched")
fail_counter = counter("headwater.fetch.items_failed", "items (or single requests) skipped after retries")


class ResponseTooLargeError(Exception):
    """The decoded body passed ``max_response_bytes``."""


class _Retryable(Exception):
    """A failure worth another attempt (connection error, timeout, 408, 429, 5xx)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FetchFailedError(Exception):
    """A request failed for good (after its retries, or at once for a non-retryable error)."""


@dataclass(frozen=True)
class ItemFailure:
    key: str
    error: str


@dataclass
class FetchOutcome:
    documents: int = 0
    pages: int = 0
    items: int = 0
    failures: list[ItemFailure] = field(default_factory=list)

    @property
    def status(self) -> str:
        if not self.failures:
            return "succeeded"
        return "partial" if self.documents else "failed"

    def counts(self) -> dict[str, int]:
        return {
            "documents": self.documents,
            "pages": self.pages,
            "items": self.items,
            "failed_items": len(self.failures),
        }


class FetchService:
    def __init__(
        self,
        http: HttpClient,
        items: ItemSource,
        auth: Authenticator,
        *,
        sleep: Sleeper = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        platform_allowlist: list[str] | None = None,
    ) -> None:
        self._http = http
        self._items = items
        self._auth = auth
        self._sleep = sleep
        self._clock = clock
        self._allow = list(platform_allowlist or [])
        self._buckets: dict[str, TokenBucket] = {}

    async def run(
        self,
        source_id: str,
        request: RequestSpec,
        iteration: IterationSpec | None,
        retry: RetrySpec,
        window: tuple[datetime, datetime] | None,
        sink: DocumentSink,
    ) -> FetchOutcome:
        outcome = FetchOutcome()
        if iteration is None:
            outcome.items = 1
            await self._one(source_id, request, retry, TemplateContext(window=window), "", {}, sink, outcome)
            return outcome
        try:
            items = await self._items.list_items(iteration.source_mcp, iteration.source_tool, iteration.arguments)
        except Exception as exc:
            outcome.failures.append(ItemFailure("*", f"listing items failed: {masker.mask(str(exc))}"))
            return outcome
        outcome.items = len(items)
        gate = asyncio.Semaphore(iteration.concurrency)

        async def one(index: int, item: dict[str, Any]) -> None:
            ident = item.get("id", item.get("name", index))
            key = f"{iteration.foreach}={ident}"
            linkage = {iteration.foreach: item}
            await self._one(
                source_id,
                request,
                retry,
                TemplateContext(item=item, window=window),
                key + "/",
                linkage,
                sink,
                outcome,
                gate,
            )

        await asyncio.gather(*(one(i, item) for i, item in enumerate(items)))
        return outcome

    async def _one(
        self,
        source_id: str,
        request: RequestSpec,
        retry: RetrySpec,
        ctx: TemplateContext,
        prefix: str,
        linkage: dict[str, Any],
        sink: DocumentSink,
        outcome: FetchOutcome,
        gate: asyncio.Semaphore | None = None,
    ) -> None:
        key = prefix.rstrip("/") or "request"
        try:
            pages = await self._paginate(
                source_id, request, retry, ctx, prefix, linkage, sink, gate or asyncio.Semaphore(1)
            )
        except (
            FetchFailedError,
            TemplateError,
            PaginationLoopError,
            BlockedAddressError,
            ResponseTooLargeError,
            LookupError,
        ) as exc:
            error = masker.mask(f"{type(exc).__name__}: {exc}")
            outcome.failures.append(ItemFailure(key, error))
            fail_counter.add(1, {"source_id": source_id})
            log.warning("item skipped after its retries", source_id=source_id, item=key, error=error)
            return
        outcome.pages += pages
        outcome.documents += pages
        ok_counter.add(1, {"source_id": source_id})

    async def _paginate(
        self,
        source_id: str,
        request: RequestSpec,
        retry: RetrySpec,
        ctx: TemplateContext,
        prefix: str,
        linkage: dict[str, Any],
        sink: DocumentSink,
        gate: asyncio.Semaphore,
    ) -> int:
        """Pages one after the other. ``gate`` bounds the requests in flight across items; it is
        held for a request and its retries, not while the document is handed on."""
        paginator = Paginator(request.pagination)
        page_req: PageRequest | None = paginator.first()
        count = 0
        while page_req is not None:
            headers, params = await self._auth.credentials(request)
            if page_req.url is not None:
                url = page_req.url
            else:
                url = build_url(request.base_url, request.path, request.parameters, ctx, {**page_req.params, **params})
            headers = {**{k: render(v, ctx) for k, v in request.headers.items()}, **headers}
            body = _render_body(request.body, ctx)
            async with gate:
                response = await self._with_retries(source_id, request, retry, url, headers, body)
            count += 1
            document_key = f"{prefix}page-{page_req.number}"
            await sink.emit(
                FetchedDocument(
                    document_key, response.body, response.content_type, {**linkage, "page": page_req.number}
                )
            )
            parsed = _json_or_none(response)
            page_req = paginator.next(page_req, Page(parsed, response.headers, response.url))
        return count

    async def _with_retries(
        self, source_id: str, request: RequestSpec, retry: RetrySpec, url: str, headers: dict[str, str], body: Any
    ) -> HttpResponse:
        """tenacity drives the attempts; the wait is ``backoff_seconds`` (exponential with full
        jitter, or the server's ``Retry-After``), and only retryable failures are retried."""

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            hint = error.retry_after if isinstance(error, _Retryable) else None
            return backoff_seconds(retry, state.attempt_number, hint)

        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(retry.max_attempts),
                wait=wait,
                retry=retry_if_exception_type(_Retryable),
                sleep=self._sleep,
                reraise=True,
            ):
                with attempt:
                    return await self._attempt(source_id, request, url, headers, body)
        except _Retryable as exc:
            raise FetchFailedError(masker.mask(f"{exc} (after {retry.max_attempts} attempts)")) from None
        raise AssertionError("unreachable")

    async def _attempt(
        self, source_id: str, request: RequestSpec, url: str, headers: dict[str, str], body: Any
    ) -> HttpResponse:
        await self._throttle(source_id, request)
        try:
            response = await self._http.request(
                request.method,
                url,
                headers=headers,
                json_body=body,
                timeout=request.timeout_seconds,
                max_bytes=request.max_response_bytes,
                max_redirects=request.max_redirects,
                allowlist=[*self._allow, *request.allow_private_hosts],
            )
        except TransientFetchError as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from None
        if response.status < 400:
            return response
        message = f"HTTP {response.status} from {_safe_url(url)}"
        if not is_retryable_status(response.status):
            raise FetchFailedError(masker.mask(message))
        raise _Retryable(message, retry_after_seconds(response.headers.get("retry-after")))

    async def _throttle(self, source_id: str, request: RequestSpec) -> None:
        if request.rate_limit_per_second is None:
            return
        bucket = self._buckets.setdefault(source_id, TokenBucket(request.rate_limit_per_second))
        delay = bucket.delay(self._clock())
        if delay > 0:
            await self._sleep(delay)


def _render_body(body: Any, ctx: TemplateContext) -> Any:
    if isinstance(body, str):
        return render(body, ctx)
    if isinstance(body, dict):
        return {k: _render_body(v, ctx) for k, v in body.items()}
    if isinstance(body, list):
        return [_render_body(v, ctx) for v in body]
    return body


def _json_or_none(response: HttpResponse) -> Any:
    if "json" not in response.content_type:
        return None
    try:
        return json.loads(response.body)
    except ValueError:
        return None


def _safe_url(url: str) -> str:
    return url.split("?", 1)[0]
