"""The worker's pipeline with in-memory fakes: dedup, partial success, SCD-2, rollback, events."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest
from worker_fakes import Configs  # type: ignore[import-not-found]
from worker_support import CONFIG, CSV1, SETTINGS, App, busy, doc, raw_id  # type: ignore[import-not-found]

from headwater.config import SourceConfig
from headwater.contracts.messages import ContentReference, RawDocument, TaskStatus
from headwater.contracts.schemas import committed_event_schemas
from headwater_ops.runtime.settings import project_dir
from worker.bootstrap import build
from worker.service_layer.errors import Conflict, NotFound
from worker.service_layer.outcomes import Busy, Processed, Unprocessable


@pytest.fixture
def app() -> App:
    return App()


async def test_partial_success_stores_good_rows_and_logs_bad_ones(app: App) -> None:
    out = await app.c.processor.handle(doc(CSV1))

    assert isinstance(out, Processed) and out.status is TaskStatus.PARTIAL
    assert sorted(app.records.rows) == ["prices:A", "prices:D"]
    a = app.records.rows["prices:A"].data
    assert a == {"sku": "A", "name": "Bolt", "price": 1.5, "characteristics": {"Colour": "red"}}
    assert sorted((e.row, e.field) for e in app.log.entries.values()) == [(3, "price"), (4, "price")]
    assert all(e.excerpt and e.document_id == out.document_id for e in app.log.entries.values())
    assert app.events.types() == ["records.changed", "document.stored"]
    assert app.results.results[-1].status is TaskStatus.PARTIAL and app.results.results[-1].counts["rows_rejected"] == 2


async def test_duplicate_content_is_acknowledged_counted_and_not_parsed_again(app: App) -> None:
    first = await app.c.processor.handle(doc(CSV1))
    logged = len(app.log.entries)
    again = await app.c.processor.handle(doc(CSV1, task="prices:t2"))

    assert isinstance(again, Processed) and again.status is TaskStatus.DUPLICATE
    assert again.document_id == first.document_id  # type: ignore[union-attr]
    assert app.raw.docs[raw_id(CSV1)].duplicates == 1
    assert len(app.log.entries) == logged and app.events.types()[-1] == "document.duplicate"
    assert app.results.results[-1].status is TaskStatus.DUPLICATE
    assert (app.metrics.total("documents_stored"), app.metrics.total("documents_duplicate")) == (1, 1)


async def test_redelivery_during_processing_retries_and_a_stale_claim_is_taken_over(app: App) -> None:
    occurrence = await busy(app, doc(CSV1, task="prices:t0"))
    assert isinstance(await app.c.processor.handle(doc(CSV1)), Busy)
    app.clock.tick(600)
    out = await app.c.processor.handle(doc(CSV1))
    assert isinstance(out, Processed) and len(app.records.rows) == 2
    assert out.document_id == occurrence  # the stale claim's occurrence, taken over


async def test_changed_price_makes_a_new_version_and_unchanged_rows_do_not(app: App) -> None:
    await app.c.processor.handle(doc(CSV1))
    app.clock.tick()
    await app.c.processor.handle(doc(CSV1.replace("1.50", "1.75"), task="prices:t2"))

    assert app.records.rows["prices:A"].version == 2
    assert app.records.rows["prices:D"].version == 1
    v1, v2 = app.records.versions["prices:A:v1"], app.records.rows["prices:A"]
    assert (v1.is_current, v1.valid_to, v1.data["price"]) == (False, app.clock.now(), 1.5)
    assert (v2.is_current, v2.valid_to, v2.data["price"], v2.valid_from) == (True, None, 1.75, app.clock.now())
    assert sorted(app.records.versions) == ["prices:A:v1"]  # unchanged rows wrote nothing
    changed = [e for e in app.events.events if e.type == "records.changed"]  # type: ignore[attr-defined]
    assert changed[-1].updated == ["A"] and changed[-1].created == []  # type: ignore[attr-defined]


async def test_unparseable_document_is_logged_announced_and_dropped() -> None:
    bad = RawDocument(
        source_id="prices",
        config_version=1,
        task_id="prices:t9",
        document_key="upload/x",
        content_type="text/csv",
        encoding="base64",
        content="//79/w==",  # not decodable as text
        fetched_at=datetime(2026, 2, 1, tzinfo=UTC),
    )
    cfg = SourceConfig.model_validate(
        {**CONFIG.model_dump(by_alias=True), "parse": {"format": "csv", "encoding": "utf-8"}}
    )
    app = App(cfg)
    out = await app.c.processor.handle(bad)

    assert isinstance(out, Unprocessable) and "not valid utf-8" in out.error
    assert app.events.types() == ["task.failed"] and app.results.results[-1].status is TaskStatus.FAILED
    assert app.raw.docs[f"prices:{hashlib.sha256(base64.b64decode(bad.content or '')).hexdigest()}"].status == "failed"
    [entry] = app.log.entries.values()
    assert (entry.key, entry.row, entry.field, entry.excerpt) == (f"{out.document_id}:0:document", 0, None, None)
    assert app.metrics.total("documents_failed") == 1


async def test_unknown_config_version_is_unprocessable(app: App) -> None:
    out = await app.c.processor.handle(doc(CSV1, version=9))
    assert isinstance(out, Unprocessable) and "version 9 not found" in out.error


async def test_rollback_restores_previous_versions_and_removes_created_records(app: App) -> None:
    await app.c.processor.handle(doc(CSV1))
    app.clock.tick()
    second = await app.c.processor.handle(doc(CSV1.replace("1.50", "1.75") + "E,Pin,3,\n", task="prices:t2"))
    assert isinstance(second, Processed)

    result = await app.c.rollback.rollback(second.document_id)

    assert (result.restored, result.removed, result.conflicts) == (1, 1, 0)
    assert app.records.rows["prices:A"].version == 3 and app.records.rows["prices:A"].data["price"] == 1.5
    assert app.records.rows["prices:A"].dataset_version == f"{second.document_id}:rollback"
    assert app.records.versions["prices:A:v2"].data["price"] == 1.75  # the rolled-back content stays in history
    assert "E" not in app.records.live() and app.records.rows["prices:E"].deleted
    assert app.events.types()[-1] == "records.rolled_back"
    assert any(e.step == "rollback" for e in app.audit.entries.values())
    with pytest.raises(Conflict, match="already rolled back"):
        await app.c.rollback.rollback(second.document_id)


async def test_rollback_of_an_unknown_version_is_not_found(app: App) -> None:
    with pytest.raises(NotFound, match="'prices:nope' not found"):
        await app.c.rollback.rollback("prices:nope")


async def test_rollback_without_history_is_a_conflict() -> None:
    app = App(
        SourceConfig.model_validate({**CONFIG.model_dump(by_alias=True), "store": {"key": ["sku"], "history": "none"}})
    )
    await app.c.processor.handle(doc(CSV1))
    second = await app.c.processor.handle(doc(CSV1.replace("1.50", "1.75"), task="prices:t2"))

    with pytest.raises(Conflict, match="version 1 of 'A' is not in the history"):
        await app.c.rollback.rollback(second.document_id)  # type: ignore[union-attr]


async def test_records_changed_is_batched(app: App) -> None:
    await app.c.processor.handle(doc("Product Code,Price\nA,1\nB,2\nC,3\n"))
    batches = [e for e in app.events.events if e.type == "records.changed"]  # type: ignore[attr-defined]
    assert [(b.batch, b.last, b.created) for b in batches] == [(1, False, ["A", "B"]), (2, True, ["C"])]  # type: ignore[attr-defined]


async def test_emitted_events_match_the_published_json_schemas(app: App) -> None:
    await app.c.processor.handle(doc(CSV1))
    await app.c.processor.handle(doc(CSV1, task="prices:t2"))
    schemas = committed_event_schemas(project_dir())
    assert set(schemas) == {
        "document.stored",
        "document.duplicate",
        "records.changed",
        "records.rolled_back",
        "task.failed",
    }
    for event in app.events.events:
        data: dict[str, Any] = event.model_dump(mode="json")
        jsonschema.validate(data, schemas[data["type"]])


async def test_dead_letters_are_kept_and_replayed_once(app: App) -> None:
    letter = {"source_id": "prices", "task_id": "t", "config_version": 0}
    await app.c.dead_letters.receive({"id": "e1", "data": letter}, "raw-documents")
    await app.c.dead_letters.receive({"id": "e1", "data": letter}, "raw-documents")  # redelivered: kept once
    assert [d.letter_id for d in await app.c.dead_letters.list()] == ["e1"]
    await app.c.dead_letters.replay("e1")
    # replayed with the source's current config version (the operator fixed the config)
    assert app.republisher.sent == [("raw-documents", {**letter, "config_version": 1})]
    with pytest.raises(NotFound, match="already replayed"):
        await app.c.dead_letters.replay("e1")
    with pytest.raises(NotFound, match="'e2' not found"):
        await app.c.dead_letters.replay("e2")
    assert await app.c.dead_letters.list() == []
    assert [d.letter_id for d in await app.c.dead_letters.list(include_replayed=True)] == ["e1"]


async def test_a_large_document_is_stored_in_bounded_batches(app: App) -> None:
    rows = "".join(f"K{i},{i % 97}.5\n" for i in range(4500))
    out = await app.c.processor.handle(doc("Product Code,Price\n" + rows))

    assert isinstance(out, Processed) and out.counts["records_created"] == 4500
    assert len(app.records.rows) == 4500
    assert sorted(app.datasets.batches) == [f"{out.document_id}:{n:06d}" for n in (1, 2, 3)]
    changed = [e for e in app.events.events if e.type == "records.changed"]  # type: ignore[attr-defined]
    assert sum(len(e.created) for e in changed) == 4500 and [e.last for e in changed].count(True) == 1  # type: ignore[attr-defined]


async def test_a_claim_checked_duplicate_is_recognised_without_reading_the_body(app: App) -> None:
    body = CSV1.encode()
    digest = hashlib.sha256(body).hexdigest()
    app.blobs.blobs[digest] = body
    ref = ContentReference(key=digest, size_bytes=len(body), sha256=digest)

    def by_reference(task: str) -> RawDocument:
        return RawDocument(
            source_id="prices",
            config_version=1,
            task_id=task,
            document_key="big",
            content_type="text/csv",
            reference=ref,
            fetched_at=datetime(2026, 2, 1, tzinfo=UTC),
        )

    first = await app.c.processor.handle(by_reference("prices:t1"))
    second = await app.c.processor.handle(by_reference("prices:t2"))

    assert isinstance(first, Processed) and first.document_id.startswith(f"prices:{digest}:")
    assert isinstance(second, Processed) and second.status is TaskStatus.DUPLICATE
    assert app.blobs.reads == 1


class YieldingConfigs(Configs):  # type: ignore[misc]
    """Gives the event loop away on every lookup, so concurrent deliveries interleave."""

    async def get(self, source_id: str, version: int) -> SourceConfig:
        await asyncio.sleep(0)
        return await super().get(source_id, version)


def interleaving(app: App) -> App:
    app.configs = YieldingConfigs(app.configs.configs)
    app.c = build(app.adapters(), SETTINGS)
    return app


async def test_concurrent_deliveries_of_the_same_content_store_it_once() -> None:
    app = interleaving(App())

    outcomes = await asyncio.gather(*(app.c.processor.handle(doc(CSV1, task=f"prices:t{i}")) for i in range(3)))

    stored = [o for o in outcomes if isinstance(o, Processed)]
    assert len(stored) == 1 and stored[0].status is TaskStatus.PARTIAL
    assert all(isinstance(o, Busy) for o in outcomes if o is not stored[0])  # Dapr redelivers them later
    assert len(app.records.rows) == 2 and app.events.types().count("document.stored") == 1
    assert app.metrics.total("documents_stored") == 1


async def test_concurrent_documents_are_counted_by_their_own_app() -> None:
    app = interleaving(App())
    bodies = [f"Product Code,Price\nK{i},{i}\n" for i in range(5)]

    outcomes = await asyncio.gather(
        *(app.c.processor.handle(doc(b, task=f"prices:t{i}", key=f"page-{i}")) for i, b in enumerate(bodies))
    )

    assert all(isinstance(o, Processed) and o.status is TaskStatus.SUCCEEDED for o in outcomes)
    assert sorted(app.records.rows) == [f"prices:K{i}" for i in range(5)]
    assert app.metrics.snapshot()["headwater.worker.documents_stored"] == 5
