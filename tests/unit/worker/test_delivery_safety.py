"""What keeps a delivery from losing anything: the claim's lease (a live delivery keeps its
document, a dead one's lapses and is taken over), the outbox (an announcement that cannot be
published is kept and published later) and the dead-letter topic's re-drive (a letter whose
deliveries failed only because the worker was down is processed; one that can never succeed is
parked with its cause; one that cannot be kept yet stays pending)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from worker_fakes import Events, Results
from worker_support import CONFIG, CSV1, App, busy, doc, raw_id  # type: ignore[import-not-found]

from headwater.contracts.events import _Event
from headwater.contracts.messages import TaskResult
from headwater.edge.subscriptions import Outcome
from worker.entrypoints.subscriptions import on_dead_letter, on_raw_document
from worker.service_layer.claims import Lease, StreamClaims, receipt_of
from worker.service_layer.outcomes import Busy, Processed, Unprocessable


class Down:
    """Redis or the sidecar: publishing fails while ``down``."""

    def __init__(self) -> None:
        self.down = False

    def check(self) -> None:
        if self.down:
            raise ConnectionError("sidecar: publish to ingestion-events: HTTP 500 ERR_PUBSUB_PUBLISH_MESSAGE")


class FlakyEvents(Events):
    def __init__(self, broker: Down) -> None:
        super().__init__()
        self.broker = broker

    async def publish(self, event: _Event) -> None:
        self.broker.check()
        await super().publish(event)


class FlakyResults(Results):
    def __init__(self, broker: Down) -> None:
        super().__init__()
        self.broker = broker

    async def publish(self, result: TaskResult) -> None:
        self.broker.check()
        await super().publish(result)


class BrokerApp(App):  # type: ignore[misc]
    def __init__(self) -> None:
        self.broker = Down()
        super().__init__(CONFIG)

    def adapters(self) -> Any:
        self.events, self.results = FlakyEvents(self.broker), FlakyResults(self.broker)
        return super().adapters()


async def test_events_that_cannot_be_published_are_kept_and_published_later() -> None:
    app = BrokerApp()
    app.broker.down = True
    outcome = await app.c.processor.handle(doc(CSV1))
    assert isinstance(outcome, Processed)  # the records are stored: the document is done
    assert (await app.heads.get(next(iter(app.heads.heads)))).status == "processed"  # type: ignore[union-attr]
    kept = set(app.outbox.kept)
    assert f"document.stored:{outcome.document_id}" in kept and any(k.startswith("task-result:") for k in kept)
    assert app.events.events == [] and app.results.results == []
    assert await app.c.outbox.drain() == 0  # still down: nothing lost, nothing published
    app.broker.down = False
    assert await app.c.outbox.drain() == len(kept)
    assert app.outbox.kept == {}
    assert f"document.stored:{outcome.document_id}" in {e.idempotency_key for e in app.events.events}
    assert [r.status for r in app.results.results] == ["partial"]


async def test_the_next_delivery_publishes_what_was_kept() -> None:
    app = BrokerApp()
    app.broker.down = True
    await app.c.processor.handle(doc(CSV1))
    app.broker.down = False
    await app.c.processor.handle(doc(CSV1))  # a redelivery: a duplicate, and the outbox drained first
    assert app.outbox.kept == {}
    assert "document.stored" in app.events.types()


async def test_a_live_claim_is_renewed_and_a_dead_one_lapses() -> None:
    app = App(CONFIG)
    message = doc(CSV1)
    claim = await StreamClaims(app.heads, app.clock, 30, 0).claim(receipt_of(message, message.content.encode()))
    head_id = next(iter(app.heads.heads))
    async with Lease(app.heads, app.clock, head_id, claim, lease_s=0.03):
        app.clock.tick(29)
        await asyncio.sleep(0.05)  # a heartbeat renewed the claim at the current time
        app.clock.tick(29)  # 58 s after the claim, 29 s after the renewal: still held
        assert isinstance(await app.c.processor.handle(message), Busy)
    app.clock.tick(31)  # its holder is gone (no more renewals): taken over and processed
    assert isinstance(await app.c.processor.handle(message), Processed)


async def test_a_busy_stream_is_answered_later_without_spending_a_retry() -> None:
    app = App(CONFIG)
    await busy(app, doc(CSV1, task="prices:t0"))
    assert await on_raw_document(app.c, {"id": "e1", "data": doc(CSV1).model_dump(mode="json")}) == Outcome.LATER


async def test_a_dead_letter_whose_worker_was_down_is_processed_and_recorded_as_recovered() -> None:
    app = App(CONFIG)
    letter = {"id": "ev-9", "data": doc(CSV1).model_dump(mode="json")}
    assert await on_dead_letter(app.c, letter) == Outcome.SUCCESS
    assert len(app.records.live()) == 2  # A and D; B and C rejected
    [kept] = await app.c.dead_letters.list(include_replayed=True)
    assert kept.outcome == "recovered" and kept.replayed_at is not None
    assert await app.c.dead_letters.list() == []  # nothing waits for an operator


async def test_a_dead_letter_that_failed_for_good_is_parked_with_its_cause_not_processed_again() -> None:
    app = App(CONFIG)
    bad = doc(CSV1, version=7)  # no such config version
    assert isinstance(await app.c.processor.handle(bad), Unprocessable)
    audited = len(app.audit.entries)
    assert await on_dead_letter(app.c, {"id": "ev-7", "data": bad.model_dump(mode="json")}) == Outcome.SUCCESS
    [parked] = await app.c.dead_letters.list()
    assert parked.outcome == "parked" and parked.cause is not None and "no config" in parked.cause
    assert len(app.audit.entries) == audited  # judged by its recorded failure, not processed again
    assert app.raw.docs[raw_id(CSV1)].status == "failed"


async def test_a_dead_letter_for_a_busy_stream_comes_again_later() -> None:
    app = App(CONFIG)
    await busy(app, doc(CSV1, task="prices:t0"))
    letter = {"id": "ev-8", "data": doc(CSV1).model_dump(mode="json")}
    assert await on_dead_letter(app.c, letter) == Outcome.LATER
    assert await app.c.dead_letters.list(include_replayed=True) == []


@pytest.mark.parametrize("handler", [on_raw_document, on_dead_letter])
async def test_a_store_outage_is_never_acknowledged(handler: Any) -> None:
    app = App(CONFIG)

    async def store_down(*_: Any, **__: Any) -> Any:
        raise ConnectionError("store unavailable")

    app.heads.get = store_down  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):  # the subscription answers RETRY (tested in test_http_api)
        await handler(app.c, {"id": "e1", "data": doc(CSV1).model_dump(mode="json")})
