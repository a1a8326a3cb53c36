"""A token bucket: at most ``rate`` requests a second per source, bursts up to ``burst``.

Time is passed in, so the bucket is pure. Taking a token may drive the balance negative:
the returned delay is then the caller's place in the queue, which spaces concurrent callers
correctly without a lock (the event loop runs one ``delay`` call at a time).
"""

from __future__ import annotations

__all__ = ["TokenBucket"]


class TokenBucket:
    def __init__(self, rate: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, rate)
        self.tokens = self.capacity
        self.updated: float | None = None

    def delay(self, now: float) -> float:
        """Take one token at monotonic time ``now``; return the seconds to wait before using it."""
        if self.updated is not None:
            self.tokens = min(self.capacity, self.tokens + max(0.0, now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate
