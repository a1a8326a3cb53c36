"""Programmatic pub/sub subscriptions with a dead-letter topic each, and outcome mapping.

Dapr calls ``GET /dapr/subscribe`` once the app is up. Each subscription gets
``deadLetterTopic = <topic>.dlq`` because with Redis Streams Dapr 1.18 acknowledges a
failed delivery unless both the inbound retry policy and a dead-letter topic exist.

Error taxonomy (how a handler's outcome reaches Dapr):
- ``Outcome.SUCCESS`` — done (also for duplicates: every consumer is idempotent);
- ``Outcome.RETRY`` — a transient failure (database or sidecar unreachable): Dapr retries
  with the inbound policy, then dead-letters;
- ``Outcome.DROP`` — the message can never succeed (malformed, fails its contract): Dapr
  moves it to the dead-letter topic at once.
An exception escaping a handler counts as RETRY.

Not ``dapr.ext.fastapi.DaprApp``: its entries always carry a ``metadata`` key, its decorator
returns ``None`` and it would add the Dapr SDK to every service for a list and a GET route
(README, "Dependencies").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request

from headwater.contracts.topics import PUBSUB, dead_letter

__all__ = ["CloudEvent", "Outcome", "Subscriptions"]

log = structlog.get_logger(__name__)


class Outcome(StrEnum):
    SUCCESS = "SUCCESS"
    RETRY = "RETRY"
    DROP = "DROP"


CloudEvent = dict[str, Any]
Handler = Callable[[CloudEvent], Awaitable[Outcome]]


class Subscriptions:
    """Collects subscriptions and serves them to Dapr."""

    def __init__(self) -> None:
        self._items: list[dict[str, Any]] = []
        self.router = APIRouter(tags=["pubsub"])
        self.router.add_api_route("/dapr/subscribe", self._list, methods=["GET"], include_in_schema=False)

    async def _list(self) -> list[dict[str, Any]]:
        return self._items

    def add(self, topic: str, handler: Handler, *, pubsub: str = PUBSUB, with_dead_letter: bool = True) -> None:
        route = f"/events/{pubsub}/{topic}"
        item: dict[str, Any] = {"pubsubname": pubsub, "topic": topic, "route": route}
        if with_dead_letter:
            item["deadLetterTopic"] = dead_letter(topic)
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
            return {"status": outcome.value}

        self.router.add_api_route(route, endpoint, methods=["POST"], include_in_schema=False)

    def mount(self, app: FastAPI) -> None:
        app.include_router(self.router)
