"""Which failures are worth another attempt, and what the server asked us to wait.

Retried: connection errors, DNS failures and timeouts (TransientFetchError), and the
statuses 408, 429 and 5xx. Never retried: any other 4xx (the request itself is wrong, or
not allowed), and the guard rails (SSRF, size, redirects, templates, pagination loops).
``Retry-After`` (delta-seconds or an HTTP-date) is honoured, capped by ``retry.max_seconds``.
The backoff curve itself (exponential with full jitter, or constant) is tenacity's; see
``collection_model.service_layer.retrying``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from collection_model.domain.errors import HttpStatusError, TransientFetchError
from headwater.config import RetrySpec

__all__ = ["RETRYABLE_STATUS", "capped_retry_after", "is_retryable", "is_retryable_status", "retry_after_seconds"]

RETRYABLE_STATUS = frozenset({408, 429})


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUS or 500 <= status <= 599


def is_retryable(error: BaseException) -> bool:
    if isinstance(error, TransientFetchError):
        return True
    return isinstance(error, HttpStatusError) and is_retryable_status(error.status)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds from ``now`` (a number or an HTTP-date); None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text)) if text.replace(".", "", 1).isdigit() else _until(text, now)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _until(text: str, now: datetime) -> float:
    when = parsedate_to_datetime(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def capped_retry_after(spec: RetrySpec, retry_after: float | None) -> float | None:
    """The server's wish, never longer than ``retry.max_seconds``."""
    return None if retry_after is None else min(retry_after, spec.max_seconds)
