from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from cm_fakes import FakeClock  # type: ignore[import-not-found]

from collection_model.domain.errors import (
    BlockedAddressError,
    HttpStatusError,
    ResponseTooLargeError,
    RetriesExhaustedError,
    TemplateError,
    TransientFetchError,
)
from collection_model.domain.retry_policy import (
    capped_retry_after,
    is_retryable,
    is_retryable_status,
    retry_after_seconds,
)
from collection_model.service_layer.retrying import call_with_retries
from headwater.config import RetrySpec

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "retry"),
    [
        (408, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (504, True),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (409, False),
        (410, False),
        (422, False),
        (304, False),
    ],
)
def test_status_classification(status: int, retry: bool) -> None:
    assert is_retryable_status(status) is retry
    assert is_retryable(HttpStatusError(status, "x")) is retry


def test_error_classification() -> None:
    assert is_retryable(TransientFetchError("reset"))
    for error in (BlockedAddressError("x"), ResponseTooLargeError("x"), TemplateError("x"), ValueError("x")):
        assert not is_retryable(error)


def test_retry_after_in_seconds_and_as_http_date() -> None:
    assert retry_after_seconds("7", NOW) == 7.0
    assert retry_after_seconds(" 1.5 ", NOW) == 1.5
    assert retry_after_seconds(format_datetime(NOW + timedelta(seconds=30), usegmt=True), NOW) == 30.0
    assert retry_after_seconds("Thu, 01 Jan 2026 00:00:45 GMT", NOW) == 45.0
    assert retry_after_seconds(format_datetime(NOW - timedelta(hours=1), usegmt=True), NOW) == 0.0  # past
    for junk in (None, "", "soon", "-5", "Thu, 99 Foo"):
        assert retry_after_seconds(junk, NOW) is None
    assert capped_retry_after(RetrySpec(max_seconds=10), 120) == 10
    assert capped_retry_after(RetrySpec(max_seconds=10), 3) == 3
    assert capped_retry_after(RetrySpec(), None) is None


class Script:
    """Fails with the given errors, then answers 'ok'."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


async def test_exponential_backoff_with_jitter_stays_under_its_ceiling() -> None:
    clock = FakeClock()
    script = Script(*[TransientFetchError("reset")] * 5)
    spec = RetrySpec(max_attempts=6, initial_seconds=1, max_seconds=8)
    assert await call_with_retries(script, spec, clock.sleep) == "ok"
    assert script.calls == 6 and len(clock.sleeps) == 5
    assert all(0 <= wait <= min(8, 2**n) for n, wait in enumerate(clock.sleeps))


async def test_constant_backoff() -> None:
    clock = FakeClock()
    spec = RetrySpec(max_attempts=3, backoff="constant", initial_seconds=2)
    await call_with_retries(Script(TransientFetchError("a"), HttpStatusError(503, "b")), spec, clock.sleep)
    assert clock.sleeps == [2, 2]


async def test_retry_after_wins_over_backoff_and_is_capped() -> None:
    clock = FakeClock()
    spec = RetrySpec(max_attempts=3, backoff="constant", initial_seconds=1, max_seconds=30)
    script = Script(HttpStatusError(429, "slow down", retry_after=12), HttpStatusError(503, "busy", retry_after=600))
    await call_with_retries(script, spec, clock.sleep)
    assert clock.sleeps == [12, 30]


async def test_no_retry_on_404_and_exhaustion_is_reported() -> None:
    clock = FakeClock()
    script = Script(HttpStatusError(404, "HTTP 404"))
    with pytest.raises(HttpStatusError):
        await call_with_retries(script, RetrySpec(max_attempts=5), clock.sleep)
    assert script.calls == 1 and clock.sleeps == []

    script = Script(*[HttpStatusError(500, "HTTP 500")] * 9)
    with pytest.raises(RetriesExhaustedError, match=r"HTTP 500 \(after 3 attempts\)"):
        await call_with_retries(script, RetrySpec(max_attempts=3), clock.sleep)
    assert script.calls == 3 and len(clock.sleeps) == 2
