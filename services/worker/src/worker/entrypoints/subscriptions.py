"""The worker's subscriptions: ``raw-documents`` and its dead-letter topic.

Each handler turns the CloudEvent into a contract model, calls the service layer and maps the
outcome to Dapr's SUCCESS / RETRY / DROP (the taxonomy: ``service_layer/errors.py``). ``Busy``
(another live delivery holds the stream; this one was already held ``stream_wait_s``) is
``LATER``: RETRY without a further hold. An exception (the store down past the adapters'
retries, the sidecar unreachable) is RETRY: never acknowledged. The dead-letter subscription
re-drives each letter and names itself as its own dead-letter topic, so a letter it cannot
keep yet is published to it again rather than acknowledged and lost (``service_layer/dead_letters``).
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from pydantic import ValidationError

from headwater.contracts.messages import RawDocument
from headwater.contracts.topics import RAW_DOCUMENTS, dead_letter
from headwater.edge.subscriptions import CloudEvent, Outcome, Subscriptions
from worker.bootstrap import Container
from worker.service_layer.outcomes import Busy, Processed

__all__ = ["on_dead_letter", "on_raw_document", "subscribe"]

log = structlog.get_logger(__name__)


async def on_raw_document(container: Container, event: CloudEvent) -> Outcome:
    try:
        doc = RawDocument.model_validate(event.get("data") or {})
    except ValidationError as exc:
        log.error(
            "malformed raw document dead-lettered",
            event_id=event.get("id"),
            errors=[f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()][:5],
        )
        return Outcome.DROP
    outcome = await container.processor.handle(doc)
    if isinstance(outcome, Processed):
        return Outcome.SUCCESS
    if isinstance(outcome, Busy):
        return Outcome.LATER
    return Outcome.DROP


async def on_dead_letter(container: Container, event: CloudEvent) -> Outcome:
    outcome = await container.dead_letters.receive(event, RAW_DOCUMENTS)
    return Outcome.LATER if isinstance(outcome, Busy) else Outcome.SUCCESS


def subscribe(subs: Subscriptions, container: Callable[[], Container]) -> None:
    """Add the worker's subscriptions; ``container`` gives the one the lifespan built."""

    async def raw_document(event: CloudEvent) -> Outcome:
        return await on_raw_document(container(), event)

    async def letter(event: CloudEvent) -> Outcome:
        return await on_dead_letter(container(), event)

    subs.add(RAW_DOCUMENTS, raw_document)
    subs.add(dead_letter(RAW_DOCUMENTS), letter, dead_letter_topic=dead_letter(RAW_DOCUMENTS))
