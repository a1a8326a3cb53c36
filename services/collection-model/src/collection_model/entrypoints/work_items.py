"""The ``work-items`` subscription: a CloudEvent → ``FetchTask`` → ``WorkHandler`` → Dapr outcome.

Malformed work items and ones that can never be processed (no request to fetch) go to the
dead-letter topic (``DROP``); a failed publish is retried (``RETRY``: the worker de-duplicates
what was already published). Fetch failures are not errors here: they are reported in the
task result.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from fastapi import FastAPI
from pydantic import ValidationError

from collection_model.bootstrap import Container
from headwater.contracts.messages import FetchTask
from headwater.edge.sidecar import DaprError
from headwater.edge.subscriptions import CloudEvent, Outcome

__all__ = ["work_item_handler"]

log = structlog.get_logger(__name__)


def work_item_handler(app: FastAPI) -> Callable[[CloudEvent], Awaitable[Outcome]]:
    async def on_work_item(event: CloudEvent) -> Outcome:
        try:
            task = FetchTask.model_validate(event.get("data") or {})
        except ValidationError:
            log.error("malformed work item dead-lettered", event_id=event.get("id"))
            return Outcome.DROP
        container: Container = app.state.container
        try:
            await container.work.handle(task)
        except DaprError as exc:  # publishing failed: let Dapr redeliver (the worker dedups)
            log.error("publishing failed; retrying the work item", task_id=task.task_id, error=str(exc))
            return Outcome.RETRY
        except ValueError as exc:
            log.error("work item cannot be processed", task_id=task.task_id, error=str(exc))
            return Outcome.DROP
        return Outcome.SUCCESS

    return on_work_item
