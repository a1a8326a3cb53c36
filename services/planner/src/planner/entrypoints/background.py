"""The planner's background work and its task-result handling while the store is down.

``sweep_forever`` runs ``Sweeper.sweep`` every ``sweep_interval`` seconds in the lifespan
(overdue runs, pending job deletions) and refreshes the gauges read from the store (the
watermark lag); a failing pass is logged and the next one tries again.
``record_holding`` records a task result (``DROP`` for one the planner refuses: it goes to
the dead-letter topic; the service layer logged why), holding the delivery while the store is
unavailable (retrying with backoff for up to ``store_hold`` seconds) before answering RETRY:
time held in the app is not counted by Dapr's inbound retries, so a store outage of that
length does not spend the message's way to the dead-letter topic.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog

from headwater.contracts.messages import TaskResult
from headwater.edge.subscriptions import Outcome
from planner.bootstrap import Container
from planner.service_layer.errors import Refused, StoreUnavailable

__all__ = ["record_holding", "sweeping"]

log = structlog.get_logger(__name__)


async def record_holding(container: Container, result: TaskResult, hold: float) -> Outcome:
    """Record ``result``; ``DROP`` when it is refused, ``RETRY`` when the store stayed
    unavailable for ``hold`` seconds."""
    loop = asyncio.get_running_loop()
    deadline, wait = loop.time() + hold, 0.5
    while True:
        try:
            await container.results.on_result(result)
            return Outcome.SUCCESS
        except Refused:
            return Outcome.DROP
        except StoreUnavailable as exc:
            if loop.time() + wait > deadline:
                log.warning("store unavailable: task result RETRY", task_id=result.task_id, error=str(exc))
                return Outcome.RETRY
            await asyncio.sleep(wait)
            wait = min(wait * 2, 8.0)


async def _sweep_forever(container: Container, interval: float) -> None:
    while True:
        try:
            report = await container.sweeper.sweep()
            if report.closed_runs or report.jobs.pending:
                log.info("sweep", closed_runs=report.closed_runs, jobs_pending=report.jobs.pending)
            for gauge in container.gauges:
                await gauge.refresh()
        except Exception as exc:  # a store or scheduler outage: the next pass tries again
            log.warning("sweep failed; next pass retries", error=str(exc))
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def sweeping(container: Container, interval: float) -> AsyncIterator[None]:
    """Run the periodic sweep for as long as the context is open."""
    task = asyncio.create_task(_sweep_forever(container, interval), name="planner-sweep")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
