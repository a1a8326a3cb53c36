"""The fetch's metrics (``headwater.fetch.*``, listed in ``headwater.metric_names``): every HTTP
exchange with a source's API by outcome and duration, every retry, every item's outcome.

``MeteredHttp`` wraps the ``HttpClient`` port for one source; ``counting_sleep`` wraps the wait
between two attempts (``retrying.call_with_retries`` sleeps only before a retry). Outcomes are a
small fixed set: ``2xx`` … ``5xx``, ``transient`` (connection, DNS, timeout), ``refused``
(SSRF guard), ``too_large``, ``redirect``, ``error``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from collection_model.domain.errors import (
    BlockedAddressError,
    RedirectError,
    ResponseTooLargeError,
    TransientFetchError,
)
from collection_model.service_layer.ports import Clock, HttpClient, HttpResponse
from headwater.metric_names import FETCH_DURATION, FETCH_ITEMS, FETCH_REQUESTS, FETCH_RETRIES, SECONDS_BUCKETS
from headwater.telemetry import counter, histogram

__all__ = ["MeteredHttp", "count_item", "counting_sleep", "outcome_of"]

_requests = counter(FETCH_REQUESTS.name, FETCH_REQUESTS.description, FETCH_REQUESTS.unit)
_retries = counter(FETCH_RETRIES.name, FETCH_RETRIES.description, FETCH_RETRIES.unit)
_duration = histogram(FETCH_DURATION.name, FETCH_DURATION.description, "s", SECONDS_BUCKETS)
_items = counter(FETCH_ITEMS.name, FETCH_ITEMS.description, FETCH_ITEMS.unit)

_ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (TransientFetchError, "transient"),
    (BlockedAddressError, "refused"),
    (ResponseTooLargeError, "too_large"),
    (RedirectError, "redirect"),
)


def outcome_of(response: HttpResponse | None, error: BaseException | None) -> str:
    if response is not None:
        return f"{min(max(response.status // 100, 1), 5)}xx"
    return next((name for kind, name in _ERRORS if isinstance(error, kind)), "error")


class MeteredHttp:
    """``HttpClient`` of one source that counts and times each exchange."""

    def __init__(self, http: HttpClient, source_id: str, clock: Clock) -> None:
        self._http, self._source_id, self._clock = http, source_id, clock

    async def request(self, method: str, url: str, **kwargs: Any) -> HttpResponse:
        started = self._clock.monotonic()
        response: HttpResponse | None = None
        error: BaseException | None = None
        try:
            response = await self._http.request(method, url, **kwargs)
            return response
        except BaseException as exc:
            error = exc
            raise
        finally:
            attributes = {"source_id": self._source_id, "outcome": outcome_of(response, error)}
            _requests.add(1, attributes)
            _duration.record(self._clock.monotonic() - started, attributes)


def counting_sleep(sleep: Callable[[float], Awaitable[None]], source_id: str) -> Callable[[float], Awaitable[None]]:
    """``sleep`` that counts a retry of ``source_id`` each time it is called."""

    async def wait(seconds: float) -> None:
        _retries.add(1, {"source_id": source_id})
        await sleep(seconds)

    return wait


def count_item(source_id: str, succeeded: bool) -> None:
    _items.add(1, {"source_id": source_id, "outcome": "succeeded" if succeeded else "failed"})
