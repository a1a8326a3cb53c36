"""Failed windows through their life (rules in :mod:`planner.domain.retries`).

Results record failures and successes; planning claims the due windows for its run and hands
back those it could not publish. Every change is a read, a decision of the domain and a write
conditional on the revision read (one document, no transaction); a lost race reads again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import structlog

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
from planner.domain.sources import StoredSource
from planner.service_layer.ports import Clock, Metrics, RetryRepository, SourceRepository

__all__ = ["RetryService"]

log = structlog.get_logger(__name__)

_RACES = 5  # conditional writes lost in a row before giving up (each loser re-reads and decides again)

Decision = Callable[[WindowRetry | None], WindowRetry | None]


class RetryService:
    """Tracks failed windows: failure → backoff → retry (attempt + 1) → recovered or dead."""

    def __init__(self, repo: RetryRepository, sources: SourceRepository, clock: Clock, metrics: Metrics) -> None:
        self._repo = repo
        self._sources = sources
        self._clock = clock
        self._metrics = metrics

    async def failed(
        self, source_id: str, task_id: str, window: TimeWindow, run_id: str | None, error: str | None
    ) -> WindowRetry | None:
        """A run of ``window`` failed (or was partial): schedule its next try, or mark it dead."""
        source = await self._sources.get(source_id)
        policy = source.retry_policy if source is not None else RetryPolicy()
        now = self._clock.now()
        changed = await self._change(
            task_id,
            lambda current: after_failure(
                current,
                task_id=task_id,
                source_id=source_id,
                window=window,
                run_id=run_id,
                error=error,
                now=now,
                policy=policy,
            ),
        )
        if changed is not None:
            self._metrics.count(f"windows_{changed.state.value}", 1, source_id=source_id)
            log.warning(
                "window failed",
                source_id=source_id,
                task_id=task_id,
                state=changed.state.value,
                attempt=changed.attempt,
                next_attempt_at=changed.next_attempt_at,
                error=changed.last_error,
            )
        return changed

    async def succeeded(self, task_id: str, run_id: str | None) -> WindowRetry | None:
        """A run of the window succeeded: a tracked window is recovered."""
        now = self._clock.now()
        changed = await self._change(task_id, lambda current: after_success(current, run_id, now))
        if changed is not None:
            self._metrics.count("windows_recovered", 1, source_id=changed.source_id)
            log.info("failed window recovered", source_id=changed.source_id, task_id=task_id, attempt=changed.attempt)
        return changed

    async def claim_due(self, source: StoredSource, run_id: str, now: datetime, limit: int) -> list[WindowRetry]:
        """The due windows of ``source`` (at most ``limit``), each moved to ``retrying`` in
        ``run_id`` with its attempt incremented; those out of tries are marked dead instead."""
        policy = source.retry_policy
        claimed: list[WindowRetry] = []
        for due in await self._repo.due(source.source_id, now, limit):
            started = await self._change(due.task_id, lambda c: retry_started(c, run_id, now, policy) if c else None)
            if started is not None and started.state is WindowState.RETRYING:
                claimed.append(started)
            elif started is not None:
                log.warning("failed window is dead", source_id=source.source_id, task_id=due.task_id)
        return claimed

    async def not_sent(self, retries: Sequence[WindowRetry], run_id: str) -> None:
        """Hand back claimed windows whose work item was not published (due again at once)."""
        now = self._clock.now()
        for retry in retries:
            await self._change(retry.task_id, lambda c: retry_not_sent(c, run_id, now) if c else None)

    async def _change(self, task_id: str, decide: Decision) -> WindowRetry | None:
        """Apply ``decide`` to the stored window and write the result conditionally; None when
        it decides nothing changes."""
        for _ in range(_RACES):
            current = await self._repo.get(task_id)
            changed = decide(current)
            if changed is None or changed is current:  # nothing to write
                return changed
            if await self._repo.save(changed):
                return changed
        raise RuntimeError(f"failed window {task_id}: {_RACES} concurrent updates in a row")
