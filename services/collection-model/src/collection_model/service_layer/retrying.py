"""Attempts of one request, driven by tenacity.

The wait before the next attempt is the server's ``Retry-After`` when it sent one (capped by
``retry.max_seconds``), else tenacity's exponential backoff with full jitter
(``wait_random_exponential``: uniform in ``[0, min(max, initial * 2^(n-1))]``) or a constant.
Only what ``retry_policy.is_retryable`` accepts is retried.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_base, wait_fixed, wait_random_exponential

from collection_model.domain.errors import HttpStatusError, RetriesExhaustedError
from collection_model.domain.retry_policy import capped_retry_after, is_retryable
from headwater.config import RetrySpec

__all__ = ["backoff", "call_with_retries"]

T = TypeVar("T")


class _RetryAfterOr(wait_base):
    """The server's ``Retry-After`` when the last failure carried one, else ``fallback``."""

    def __init__(self, spec: RetrySpec, fallback: wait_base) -> None:
        self.spec = spec
        self.fallback = fallback

    def __call__(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        hint = capped_retry_after(self.spec, error.retry_after) if isinstance(error, HttpStatusError) else None
        return hint if hint is not None else self.fallback(retry_state)


def backoff(spec: RetrySpec) -> wait_base:
    base: wait_base = (
        wait_fixed(spec.initial_seconds)
        if spec.backoff == "constant"
        else wait_random_exponential(multiplier=spec.initial_seconds, max=spec.max_seconds)
    )
    return _RetryAfterOr(spec, base)


async def call_with_retries(
    attempt: Callable[[], Awaitable[T]], spec: RetrySpec, sleep: Callable[[float], Awaitable[None]]
) -> T:
    """Run ``attempt`` up to ``spec.max_attempts`` times. A non-retryable error propagates at
    once; when every attempt failed retryably, RetriesExhaustedError carries the last error."""
    retrying = AsyncRetrying(
        stop=stop_after_attempt(spec.max_attempts),
        wait=backoff(spec),
        retry=retry_if_exception(is_retryable),
        sleep=sleep,
        reraise=True,
    )
    try:
        return await retrying(attempt)
    except Exception as exc:
        if is_retryable(exc):
            raise RetriesExhaustedError(f"{exc} (after {spec.max_attempts} attempts)") from exc
        raise
