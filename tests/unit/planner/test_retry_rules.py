"""The rules of failed windows (``planner.domain.retries``): backoff, attempts, dead, recovered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from headwater.contracts.messages import TimeWindow
from planner.domain.retries import (
    RetryPolicy,
    WindowRetry,
    WindowState,
    after_failure,
    after_success,
    retry_not_sent,
    retry_started,
)

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
M = timedelta(minutes=1)
WINDOW = TimeWindow.model_validate({"from": "2026-03-01T00:00:00Z", "to": "2026-03-01T01:00:00Z"})
POLICY = RetryPolicy(max_attempts=3, backoff=M, backoff_max=10 * M)


def fail(current: WindowRetry | None, run_id: str, error: str = "HTTP 500", now: datetime = NOW) -> WindowRetry | None:
    return after_failure(
        current, task_id="t", source_id="s", window=WINDOW, run_id=run_id, error=error, now=now, policy=POLICY
    )


def first_failure() -> WindowRetry:
    failed = fail(None, "r1")
    assert failed is not None
    return failed


@pytest.mark.parametrize(
    ("attempt", "wait"), [(1, M), (2, 2 * M), (3, 4 * M), (4, 8 * M), (5, 10 * M), (10_000, 10 * M)]
)
def test_the_wait_doubles_per_failed_try_up_to_its_cap(attempt: int, wait: timedelta) -> None:
    assert POLICY.wait_after(attempt) == wait


def test_a_first_failure_is_attempt_one_due_after_the_backoff() -> None:
    failed = first_failure()
    assert (failed.state, failed.attempt, failed.run_id) == (WindowState.FAILING, 1, "r1")
    assert failed.next_attempt_at == NOW + M and failed.last_error == "HTTP 500"
    assert failed.revision == 1 and failed.first_failed_at == NOW
    assert not failed.is_due(NOW + M - timedelta(seconds=1)) and failed.is_due(NOW + M)


def test_a_repeated_or_stale_failure_changes_nothing() -> None:
    failed = first_failure()
    assert fail(failed, "r1") is None  # the same run's report again
    retrying = retry_started(failed, "r2", NOW + M, POLICY)
    assert retrying is not None
    assert fail(retrying, "r1", "late report of the first try") is None


def test_a_retry_takes_the_next_attempt_and_a_failure_of_it_doubles_the_wait() -> None:
    later = NOW + M
    retrying = retry_started(first_failure(), "r2", later, POLICY)
    assert retrying is not None
    assert (retrying.state, retrying.attempt, retrying.run_id) == (WindowState.RETRYING, 2, "r2")

    failed_again = fail(retrying, "r2", "timeout", now=later)
    assert failed_again is not None
    assert (failed_again.state, failed_again.attempt) == (WindowState.FAILING, 2)
    assert failed_again.next_attempt_at == later + 2 * M and failed_again.last_error == "timeout"
    assert (failed_again.last_failed_at, failed_again.last_failed_run) == (later, "r2")


def test_a_window_not_due_is_not_claimed_and_a_claim_for_the_same_run_is_idempotent() -> None:
    failed = first_failure()
    assert retry_started(failed, "r2", NOW, POLICY) is None  # the backoff is not over
    retrying = retry_started(failed, "r2", NOW + M, POLICY)
    assert retrying is not None and retry_started(retrying, "r2", NOW + M, POLICY) is retrying
    assert retry_started(retrying, "r3", NOW + 2 * M, POLICY) is None


def test_after_the_last_attempt_the_window_is_dead_with_its_reason() -> None:
    window, now = first_failure(), NOW
    for run in ("r2", "r3"):
        now += 10 * M
        started = retry_started(window, run, now, POLICY)
        assert started is not None
        failed = fail(started, run, f"HTTP 500 in {run}", now=now)
        assert failed is not None
        window = failed
    assert (window.state, window.attempt, window.next_attempt_at) == (WindowState.DEAD, 3, None)
    assert window.last_error == "gave up after 3 attempt(s): HTTP 500 in r3"
    assert not window.is_due(now + timedelta(days=1)) and retry_started(window, "r4", now, POLICY) is None


def test_a_single_allowed_attempt_is_dead_at_once() -> None:
    dead = after_failure(
        None,
        task_id="t",
        source_id="s",
        window=WINDOW,
        run_id="r1",
        error=None,
        now=NOW,
        policy=RetryPolicy(max_attempts=1),
    )
    assert dead is not None and dead.state is WindowState.DEAD
    assert dead.last_error == "gave up after 1 attempt(s): the task failed without an error message"


def test_tries_used_up_by_a_lowered_max_attempts_make_the_window_dead_when_claimed() -> None:
    two = fail(retry_started(first_failure(), "r2", NOW + M, POLICY), "r2")
    assert two is not None and two.attempt == 2
    dead = retry_started(two, "r3", NOW + 10 * M, RetryPolicy(max_attempts=2))
    assert dead is not None and dead.state is WindowState.DEAD
    assert dead.last_error == "gave up after 2 attempt(s) (max_attempts 2): HTTP 500"


def test_a_success_recovers_the_window_and_a_later_failure_starts_over() -> None:
    recovered = after_success(retry_started(first_failure(), "r2", NOW + M, POLICY), "r2", NOW + M)
    assert recovered is not None and recovered.state is WindowState.RECOVERED and recovered.attempt == 2
    assert after_success(recovered, "r2", NOW + M) is None and after_success(None, "r9", NOW) is None

    again = fail(recovered, "r5", "HTTP 502")
    assert again is not None and (again.state, again.attempt, again.last_error) == (WindowState.FAILING, 1, "HTTP 502")
    assert again.revision == recovered.revision + 1


def test_a_claimed_retry_that_was_not_published_is_due_again_at_its_old_attempt() -> None:
    retrying = retry_started(first_failure(), "r2", NOW + M, POLICY)
    assert retrying is not None
    back = retry_not_sent(retrying, "r2", NOW + 2 * M)
    assert back is not None and back.next_attempt_at == NOW + 2 * M
    assert (back.state, back.attempt) == (WindowState.FAILING, 1)
    assert retry_not_sent(back, "r2", NOW + 2 * M) is None
