"""Publishing a run's work items in order, each retried with backoff before the run gives up."""

from __future__ import annotations

from collections.abc import Sequence

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from headwater.contracts.messages import FetchTask
from planner.service_layer.ports import WorkPublisher

__all__ = ["RetryingPublisher"]


class RetryingPublisher:
    """Wraps a ``WorkPublisher``: up to ``attempts`` tries per item, waits growing to ``wait_max`` s."""

    def __init__(self, publisher: WorkPublisher, attempts: int, wait_max: float) -> None:
        self._publisher = publisher
        self._attempts = attempts
        self._wait_max = wait_max

    async def publish_all(self, tasks: Sequence[FetchTask]) -> tuple[int, Exception | None]:
        """Publish ``tasks`` in order; stop at the first that still fails after its retries.

        Returns how many were published and the last error (None when all were)."""
        published = 0
        try:
            for task in tasks:
                await self._publish(task)
                published += 1
        except Exception as exc:
            return published, exc
        return published, None

    async def _publish(self, task: FetchTask) -> None:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential_jitter(initial=min(0.2, self._wait_max), max=self._wait_max),
            retry=retry_if_exception_type(Exception),
            reraise=True,
        ):
            with attempt:
                await self._publisher.publish(task)
