"""Which failures are retried, and how long to wait: exponential backoff with full jitter
(capped), or the server's ``Retry-After`` when it gives one."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from headwater.config import RetrySpec

__all__ = ["RETRYABLE_STATUS", "backoff_seconds", "is_retryable_status", "retry_after_seconds"]

RETRYABLE_STATUS = {408, 429}


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUS or 500 <= status <= 599


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds (a number or an HTTP date), or None."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_seconds(
    spec: RetrySpec, attempt: int, retry_after: float | None = None, rng: random.Random | None = None
) -> float:
    """Wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
    if retry_after is not None:
        return min(retry_after, spec.max_seconds)
    if spec.backoff == "constant":
        return spec.initial_seconds
    ceiling = min(spec.max_seconds, spec.initial_seconds * (2 ** (attempt - 1)))
    return (rng or random).uniform(0, ceiling)
