"""What every fuzz test shares: one settings profile and the outcome check.

Determinism: ``derandomize=True`` derives each test's examples from the test itself, and
``database=None`` keeps no example database, so CI and every laptop run the same examples
every time (a failure found once is found again, and never appears from a stale local
``.hypothesis`` directory). Bugs found are kept as explicit ``@example`` regressions.

Hangs: the per-example ``deadline`` fails an example that is slow but finishes; an example
that would never finish is stopped by ``HARD_LIMIT`` (a SIGALRM timer around the call under
test), which raises ``Hang`` inside it, so the suite fails instead of hanging.
"""

from __future__ import annotations

import signal
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings

__all__ = ["FUZZ", "HARD_LIMIT", "Hang", "outcome"]

T = TypeVar("T")
HARD_LIMIT = 10.0  # seconds


def profile(max_examples: int = 100, deadline_ms: int = 2000) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=timedelta(milliseconds=deadline_ms),
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )


FUZZ = profile()


class Hang(Exception):
    """The call under test ran past ``HARD_LIMIT``."""


@contextmanager
def _hard_limit(seconds: float) -> Iterator[None]:
    def stop(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def outcome(call: Callable[[], T], *allowed: type[Exception]) -> T | Exception:
    """What ``call()`` returned, or the allowed (typed) error it raised; any other exception
    propagates and fails the example. Library warnings (openpyxl on odd workbooks) are not
    failures in production, so they are ignored here although the suite turns warnings into errors."""
    with _hard_limit(HARD_LIMIT), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return call()
        except allowed as exc:
            assert str(exc).strip(), f"{type(exc).__name__} without a message"
            return exc
