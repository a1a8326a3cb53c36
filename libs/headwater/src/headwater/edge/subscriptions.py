"""Programmatic pub/sub subscriptions with a dead-letter topic each, and outcome mapping.

Dapr calls ``GET /dapr/subscribe`` once the app is up. Each subscription gets
``deadLetterTopic = <topic>.dlq`` because with Redis Streams Dapr 1.18 acknowledges a
failed delivery unless both the inbound retry policy and a dead-letter topic exist.

Error taxonomy (how a handler's outcome reaches Dapr):
- ``Outcome.SUCCESS`` — done (also for duplicates: every consumer is idempotent);
- ``Outcome.RETRY`` — a transient failure (database or sidecar unreachable): Dapr retries
  with the inbound policy, then dead-letters;
- ``Outcome.DROP`` — the message can never succeed (malformed, fails its contract): Dapr
  moves it to the dead-letter topic at once;
- ``Outcome.LATER`` — not now, and the handler already held the delivery as long as it could
  (another live delivery is on the same work): answered RETRY without the pacing hold below.
  Holding a delivery in the app spends none of the resiliency policy's ``maxRetries`` (only
  answers do), so a handler waits for live work inside Redis' ``processingTimeout`` first.
An exception escaping a handler counts as RETRY.

A dead-letter subscription (``<topic>.dlq``) has no dead-letter topic of the form ``.dlq.dlq``:
``add(..., dead_letter_topic=<its own topic>)`` makes Dapr publish a delivery whose retries ran
out to the same topic again (the same CloudEvent, a new stream entry) instead of acknowledging
it into oblivion, so a dead letter stays pending while its handler cannot keep it.

Retry schedule: a failed message is retried 3 times, about 1 s, 5 s and 25 s after each
failure, then dead-lettered. Dapr 1.18's Resiliency cannot express that (it reads only
``policy``, ``duration``, ``maxInterval``, ``maxRetries``: exponential starts at 500 ms and
grows by 1.5), so the pub/sub inbound policy retries 3 times at a constant 1 s and the app
holds each failed delivery for the rest of the wait before answering RETRY
(:class:`RetryPacing`). A delivery that never reached the app (app down) is retried by
Dapr alone, at 1 s.

Not ``dapr.ext.fastapi.DaprApp``: its entries always carry a ``metadata`` key, its decorator
returns ``None`` and it would add the Dapr SDK to every service for a list and a GET route
(README, "Dependencies").
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from headwater.contracts.topics import PUBSUB, dead_letter

__all__ = ["CloudEvent", "Outcome", "RetryPacing", "Subscriptions"]

log = structlog.get_logger(__name__)


class Outcome(StrEnum):
    SUCCESS = "SUCCESS"
    RETRY = "RETRY"
    DROP = "DROP"
    LATER = "LATER"  # answered RETRY, already held by the handler (no pacing hold)


CloudEvent = dict[str, Any]
Handler = Callable[[CloudEvent], Awaitable[Outcome]]


class _RetrySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HEADWATER_", extra="ignore")

    retry_delays: tuple[float, ...] = Field(default=(1.0, 5.0, 25.0), description="wait before each retry, seconds")
    retry_policy_interval: float = Field(default=1.0, description="the inbound resiliency policy's constant duration")


class RetryPacing:
    """How long to hold a failed delivery before answering RETRY, so that with the inbound
    policy's own constant interval the n-th retry comes ``delays[n-1]`` after the failure.

    Attempts are counted per CloudEvent id (the same id on every redelivery of a message),
    in a bounded in-memory table: after a restart a message starts its count again.
    """

    def __init__(
        self,
        delays: Sequence[float],
        policy_interval: float,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        remember: int = 10_000,
    ) -> None:
        self._delays = tuple(delays)
        self._interval = policy_interval
        self._sleep = sleep
        self._remember = remember
        self._failures: OrderedDict[str, int] = OrderedDict()

    @classmethod
    def from_env(cls) -> RetryPacing:
        """``HEADWATER_RETRY_DELAYS`` (JSON list, default ``[1, 5, 25]``) and
        ``HEADWATER_RETRY_POLICY_INTERVAL`` (default 1, as in resiliency.yaml)."""
        settings = _RetrySettings()
        return cls(settings.retry_delays, settings.retry_policy_interval)

    def hold_for(self, event_id: str) -> float:
        """Count one more failure of ``event_id``; the seconds to hold it before RETRY."""
        failures = self._failures.pop(event_id, 0) + 1
        self._failures[event_id] = failures
        while len(self._failures) > self._remember:
            self._failures.popitem(last=False)
        if not self._delays:
            return 0.0
        wanted = self._delays[min(failures, len(self._delays)) - 1]
        return max(0.0, wanted - self._interval)

    def forget(self, event_id: str) -> None:
        self._failures.pop(event_id, None)

    async def before_retry(self, event_id: str) -> None:
        hold = self.hold_for(event_id)
        if hold > 0:
            await self._sleep(hold)


class Subscriptions:
    """Collects subscriptions and serves them to Dapr."""

    def __init__(self, pacing: RetryPacing | None = None) -> None:
        self._pacing = pacing or RetryPacing.from_env()
        self._items: list[dict[str, Any]] = []
        self.router = APIRouter(tags=["pubsub"])
        self.router.add_api_route("/dapr/subscribe", self._list, methods=["GET"], include_in_schema=False)

    async def _list(self) -> list[dict[str, Any]]:
        return self._items

    def add(
        self,
        topic: str,
        handler: Handler,
        *,
        pubsub: str = PUBSUB,
        with_dead_letter: bool = True,
        dead_letter_topic: str | None = None,
    ) -> None:
        """Subscribe ``handler`` to ``topic``; its dead-letter topic is ``<topic>.dlq``, or
        ``dead_letter_topic`` (a dead-letter subscription names itself), or none."""
        route = f"/events/{pubsub}/{topic}"
        item: dict[str, Any] = {"pubsubname": pubsub, "topic": topic, "route": route}
        if dead_letter_topic or with_dead_letter:
            item["deadLetterTopic"] = dead_letter_topic or dead_letter(topic)
        self._items.append(item)

        async def endpoint(request: Request) -> dict[str, str]:
            try:
                event = await request.json()
            except ValueError:
                log.warning("undecodable event body dropped", topic=topic)
                return {"status": Outcome.DROP}
            try:
                outcome = await handler(event)
            except Exception:
                log.exception("handler failed; asking Dapr to retry", topic=topic, event_id=event.get("id"))
                outcome = Outcome.RETRY
            await self._pace(event, outcome)
            return {"status": (Outcome.RETRY if outcome is Outcome.LATER else outcome).value}

        self.router.add_api_route(route, endpoint, methods=["POST"], include_in_schema=False)

    async def _pace(self, event: CloudEvent, outcome: Outcome) -> None:
        event_id = str(event.get("id") or "")
        if not event_id:
            return
        if outcome is Outcome.RETRY:
            await self._pacing.before_retry(event_id)
        elif outcome is not Outcome.LATER:
            self._pacing.forget(event_id)

    def mount(self, app: FastAPI) -> None:
        app.include_router(self.router)
