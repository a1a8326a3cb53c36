"""When a supervised process that exited is started again: exponential backoff with a cap.

Pure bookkeeping (no processes, no clock of its own), so the rules are unit-tested:
the first restart after a crash comes quickly (``initial`` seconds), each further crash in a
row doubles the wait up to ``max_delay``, and a process that stayed up ``reset_after``
seconds starts a new streak (one crash an hour is not a crash loop).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["RestartPolicy", "RestartRecord"]


@dataclass(frozen=True)
class RestartPolicy:
    """How long to wait before starting an exited process again."""

    initial: float = 0.5
    factor: float = 2.0
    max_delay: float = 30.0
    reset_after: float = 30.0

    def __post_init__(self) -> None:
        if self.initial < 0:
            raise ValueError(f"initial must be >= 0, got {self.initial}")
        if self.factor < 1:
            raise ValueError(f"factor must be >= 1, got {self.factor}")
        if self.max_delay < self.initial:
            raise ValueError(f"max_delay ({self.max_delay}) must be >= initial ({self.initial})")
        if self.reset_after <= 0:
            raise ValueError(f"reset_after must be > 0, got {self.reset_after}")

    def delay(self, streak: int) -> float:
        """The wait before restart number ``streak`` (1-based) of a crash loop."""
        if streak < 1:
            raise ValueError(f"streak must be >= 1, got {streak}")
        return float(min(self.max_delay, self.initial * self.factor ** (streak - 1)))


@dataclass
class RestartRecord:
    """What happened to one supervised process: how often it was restarted and its last exit.

    Times are the caller's clock (seconds); ``started_at`` is when the current run began."""

    policy: RestartPolicy = field(default_factory=RestartPolicy)
    restarts: int = 0
    streak: int = 0
    started_at: float | None = None
    last_exit_code: int | None = None
    last_exit_at: float | None = None
    next_start_at: float | None = None

    def started(self, now: float) -> None:
        """The process was started (first start or a restart)."""
        if self.next_start_at is not None:
            self.restarts += 1
        self.started_at = now
        self.next_start_at = None

    def exited(self, code: int, now: float) -> float:
        """The process exited with ``code`` at ``now``; returns the wait before its restart."""
        uptime = now - self.started_at if self.started_at is not None else 0.0
        self.streak = 1 if uptime >= self.policy.reset_after else self.streak + 1
        self.last_exit_code = code
        self.last_exit_at = now
        self.started_at = None
        wait = self.policy.delay(self.streak)
        self.next_start_at = now + wait
        return wait

    def due(self, now: float) -> bool:
        """True when the process is waiting for a restart whose time has come."""
        return self.next_start_at is not None and now >= self.next_start_at

    def as_dict(self) -> dict[str, Any]:
        return {
            "restarts": self.restarts,
            "streak": self.streak,
            "last_exit_code": self.last_exit_code,
            "last_exit_at": self.last_exit_at,
            "next_start_at": self.next_start_at,
            "started_at": self.started_at,
        }
