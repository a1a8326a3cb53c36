"""``headwater reprocess`` on the in-memory fakes: stored documents sent again with the current
config, through the same pipeline, applied once per request, and what cannot be sent reported."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from worker_fakes import FakeAdapters  # type: ignore[import-not-found]
from worker_support import SETTINGS, doc  # type: ignore[import-not-found]

from headwater.config import SourceConfig
from headwater.contracts.messages import RawDocument, TaskStatus
from worker.bootstrap import Container, build
from worker.domain.audit import AuditReprocess, AuditStep
from worker.entrypoints.app import create_app
from worker.service_layer.claims import receipt_of
from worker.service_layer.errors import NotFound
from worker.service_layer.outcomes import Outcome, Processed, Unprocessable
from worker.settings import Settings

CSV = "Product Code,Name,Price\nA,Bolt,1.50\nB,Nut,0.20\n"
T0 = datetime(2026, 2, 1, tzinfo=UTC)
BASE: dict[str, Any] = {
    "source_id": "prices",
    "ingestion": {"mode": "push"},
    "parse": {"format": "csv"},
    "store": {"key": ["sku"], "history": "scd2"},
}
UNMAPPED = SourceConfig.model_validate(
    {**BASE, "map": {"fields": {"sku": "Product Code"}, "fuzzy": False, "standard_fields": ["sku", "name", "price"]}}
)
FIXED = SourceConfig.model_validate(
    {
        **BASE,
        "map": {"fields": {"sku": "Product Code", "name": "Name", "price": "Price"}, "fuzzy": False},
        "validate": {"fields": {"price": {"type": "number", "required": True}}},
    }
)


class Sources(FakeAdapters):  # type: ignore[misc]
    """Every fake, with the configs as versions 1, 2 … of source ``prices``."""

    def __init__(self, *configs: SourceConfig, retention: str | None = None) -> None:
        if retention:
            configs = tuple(
                SourceConfig.model_validate(
                    {**c.model_dump(by_alias=True), "store": {**BASE["store"], "raw_retention": retention}}
                )
                for c in configs
            )
        super().__init__({("prices", n): c for n, c in enumerate(configs, start=1)})
        self.c: Container = build(self.adapters(), SETTINGS)

    async def deliver(self) -> list[Outcome]:
        """Deliver what reprocess published on raw-documents, as the pub/sub would."""
        sent, self.republisher.sent = self.republisher.sent, []
        return [await self.c.processor.handle(RawDocument.model_validate(data)) for _, data in sent]


def upload(content: str, minutes: int = 0, version: int = 1) -> RawDocument:
    digest = hashlib.sha256(content.encode()).hexdigest()
    return doc(
        content,
        task=f"prices:upload-{digest[:16]}",
        key="upload/prices.csv",
        version=version,
        fetched_at=T0 + timedelta(minutes=minutes),
        run_id=f"upload-{digest[:16]}",
        linkage={"filename": "prices.csv", "uploaded": True},
    )


def raw_id(content: str) -> str:
    return f"prices:{hashlib.sha256(content.encode()).hexdigest()}"


def steps(app: Sources) -> list[tuple[str, str]]:
    return [(e.step, e.outcome) for e in app.audit.entries.values() if isinstance(e, AuditStep | AuditReprocess)]


async def test_reprocess_after_a_mapping_fix_changes_the_records() -> None:
    app = Sources(UNMAPPED, FIXED)
    first = await app.c.processor.handle(upload(CSV))
    assert app.records.rows["prices:A"].data == {"sku": "A", "characteristics": {"Name": "Bolt", "Price": "1.50"}}
    results = len(app.results.results)

    result = await app.c.reprocess.reprocess("prices")

    assert (result.config_version, result.queued, result.expired, result.superseded) == (2, [raw_id(CSV)], [], [])
    [(topic, sent)] = app.republisher.sent
    message = RawDocument.model_validate(sent)
    assert topic == "raw-documents" and message.reprocess and message.config_version == 2
    assert message.reference is not None and message.reference.store == "worker-raw" and message.content is None
    assert (message.task_id, message.document_key, message.linkage) == (
        upload(CSV).task_id,
        "upload/prices.csv",
        {"filename": "prices.csv", "uploaded": True},
    )
    assert message.run_id == result.run_id and result.run_id.startswith("reprocess-")

    [out] = await app.deliver()
    assert isinstance(out, Processed) and out.status is TaskStatus.SUCCEEDED
    assert out.document_id != first.document_id  # type: ignore[union-attr]  # a new occurrence, its own version
    a = app.records.rows["prices:A"]
    assert (a.version, a.data) == (2, {"sku": "A", "name": "Bolt", "price": 1.5})
    assert sorted(app.datasets.versions) == sorted([first.document_id, out.document_id])  # type: ignore[union-attr]
    assert app.events.types()[-2:] == ["records.changed", "document.stored"]
    assert ("reprocess", "queued") in steps(app) and ("reprocess", "new") in steps(app)
    assert len(app.results.results) == results  # no task result: a reprocess is no fetch of the planner's
    assert app.raw.docs[raw_id(CSV)].duplicates == 0


async def test_reprocess_with_an_unchanged_mapping_writes_no_new_versions() -> None:
    app = Sources(FIXED)
    await app.c.processor.handle(upload(CSV))
    await app.c.reprocess.reprocess("prices")

    [out] = await app.deliver()

    assert isinstance(out, Processed) and out.counts["records_unchanged"] == 2
    assert {k: r.version for k, r in app.records.rows.items()} == {"prices:A": 1, "prices:B": 1}
    assert app.records.versions == {}


async def test_a_reprocess_delivered_twice_is_applied_once() -> None:
    app = Sources(UNMAPPED, FIXED)
    await app.c.processor.handle(upload(CSV))
    await app.c.reprocess.reprocess("prices")
    [(_, sent)] = app.republisher.sent
    again = RawDocument.model_validate(sent)

    [first] = await app.deliver()
    second = await app.c.processor.handle(again)  # a redelivery of the same request's message

    assert isinstance(second, Processed) and second.status is TaskStatus.DUPLICATE
    assert second.document_id == first.document_id  # type: ignore[union-attr]
    assert len(app.datasets.versions) == 2 and app.raw.docs[raw_id(CSV)].duplicates == 0
    await app.c.reprocess.reprocess("prices")  # a new request is a new run: applied again
    [third] = await app.deliver()
    assert isinstance(third, Processed) and third.status is TaskStatus.SUCCEEDED and len(app.datasets.versions) == 3


async def test_reprocess_of_one_document_by_its_id_an_occurrence_or_its_hash() -> None:
    app = Sources(FIXED)
    page1, page2 = CSV, CSV.replace("B,Nut", "C,Pin")
    await app.c.processor.handle(doc(page1, key="page-1"))
    second = await app.c.processor.handle(doc(page2, key="page-2"))
    occurrence = second.document_id  # type: ignore[union-attr]

    for ref in (raw_id(page2), occurrence, raw_id(page2).split(":")[1]):
        result = await app.c.reprocess.reprocess("prices", document=ref)
        assert result.queued == [raw_id(page2)]
    assert {RawDocument.model_validate(d).document_key for _, d in app.republisher.sent} == {"page-2"}
    with pytest.raises(NotFound, match="not found"):
        await app.c.reprocess.reprocess("prices", document=raw_id("unknown"))
    with pytest.raises(NotFound, match="not a document id"):
        await app.c.reprocess.reprocess("prices", document="other:" + raw_id(page2).split(":")[1])
    with pytest.raises(NotFound, match="source 'nope' not found"):
        await app.c.reprocess.reprocess("nope")


async def test_reprocess_since_a_time_takes_what_was_fetched_from_then_on() -> None:
    app = Sources(FIXED)
    early, late = CSV, CSV.replace("B,Nut", "C,Pin")
    await app.c.processor.handle(doc(early, key="page-1", fetched_at=T0))
    await app.c.processor.handle(doc(late, key="page-2", fetched_at=T0 + timedelta(hours=1)))

    result = await app.c.reprocess.reprocess("prices", since=T0 + timedelta(minutes=30))

    assert result.queued == [raw_id(late)]
    everything = await app.c.reprocess.reprocess("prices")
    assert everything.queued == [raw_id(early), raw_id(late)]  # oldest first


async def test_a_document_whose_body_expired_is_reported_not_queued() -> None:
    app = Sources(FIXED, retention="1d")
    await app.c.processor.handle(upload(CSV))
    app.clock.tick(2 * 86_400)

    result = await app.c.reprocess.reprocess("prices", document=raw_id(CSV))

    assert (result.queued, result.expired) == ([], [raw_id(CSV)]) and app.republisher.sent == []
    [entry] = [e for e in app.audit.entries.values() if isinstance(e, AuditReprocess)]
    assert (entry.outcome, entry.run_id, entry.step) == ("expired", result.run_id, "reprocess")
    assert entry.error and "no longer kept" in entry.error
    app.bodies.expire("prices", raw_id(CSV).split(":")[1])  # the TTL monitor removed it
    assert (await app.c.reprocess.reprocess("prices")).expired == [raw_id(CSV)]


async def test_a_body_gone_before_its_turn_is_dead_lettered_and_its_stream_left_alone() -> None:
    app = Sources(UNMAPPED, FIXED)
    await app.c.processor.handle(upload(CSV))
    head = dict(app.heads.heads)
    await app.c.reprocess.reprocess("prices")
    app.bodies.expire("prices", raw_id(CSV).split(":")[1])

    [out] = await app.deliver()

    assert isinstance(out, Unprocessable) and "expired" in out.error
    assert app.events.types()[-1] == "task.failed" and app.heads.heads == head
    assert ("reprocess", "expired") in steps(app)


async def test_an_older_document_of_a_stream_is_reported_superseded() -> None:
    app = Sources(FIXED)
    newer = CSV.replace("1.50", "1.75")
    await app.c.processor.handle(upload(CSV, minutes=0))
    await app.c.processor.handle(upload(newer, minutes=5))  # the upload stream's latest

    result = await app.c.reprocess.reprocess("prices")

    assert (result.queued, result.superseded) == ([raw_id(newer)], [raw_id(CSV)])
    [message] = [RawDocument.model_validate(d) for _, d in app.republisher.sent]
    assert message.fetched_at == T0 + timedelta(minutes=5)


async def test_a_failed_document_is_taken_over_by_its_reprocess() -> None:
    broken = SourceConfig.model_validate(
        {**FIXED.model_dump(by_alias=True), "parse": {"format": "csv", "encoding": "utf-8"}}
    )
    app = Sources(broken, FIXED)
    failed = await app.c.processor.handle(doc("//79/w==", encoding="base64"))  # not UTF-8
    assert isinstance(failed, Unprocessable)
    app.configs.configs[("prices", 2)] = SourceConfig.model_validate(
        {**FIXED.model_dump(by_alias=True), "parse": {"format": "csv", "encoding": "latin-1"}}
    )

    await app.c.reprocess.reprocess("prices")
    [out] = await app.deliver()

    assert isinstance(out, Processed) and out.document_id == failed.document_id  # the failed occurrence, taken over
    assert app.raw.docs[next(iter(app.raw.docs))].status == "processed"


async def test_a_reprocessed_fetch_keeps_its_stream() -> None:
    app = Sources(FIXED)
    window = "prices:2026-01-01T00:00:00+00:00/2026-01-02T00:00:00+00:00"
    original = doc(CSV, task=window, key="region=n/page-1", linkage={"region": "n"})
    await app.c.processor.handle(original)
    await app.c.reprocess.reprocess("prices")
    [(_, sent)] = app.republisher.sent
    again = RawDocument.model_validate(sent)
    assert receipt_of(again, None).stream == receipt_of(original, CSV.encode()).stream


async def test_the_route_queues_and_reports() -> None:
    fakes = Sources(UNMAPPED, FIXED, retention="1d")
    await fakes.c.processor.handle(upload(CSV))
    app = create_app(Settings())
    app.state.container, app.state.tokens = fakes.c, fakes.c.tokens
    auth = {"authorization": "Bearer secret"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://worker") as http:
        path = "/api/v1/sources/prices/reprocess"
        queued = await http.post(path, json={"document": raw_id(CSV)}, headers=auth)
        assert queued.status_code == 202
        body = queued.json()
        assert (body["queued"], body["documents"], body["expired"], body["config_version"]) == (
            1,
            [raw_id(CSV)],
            [],
            2,
        )
        assert (await http.post(path, json={"since": "2026-01-01T00:00:00Z"}, headers=auth)).json()["queued"] == 1
        assert (await http.post(path, headers=auth)).json()["queued"] == 1  # no body: every document
        fakes.clock.tick(2 * 86_400)
        assert (await http.post(path, json={}, headers=auth)).json()["expired"] == [raw_id(CSV)]
        assert (await http.post("/api/v1/sources/nope/reprocess", json={}, headers=auth)).status_code == 404
        assert (await http.post(path, json={"since": "2026-01-01T00:00:00"}, headers=auth)).status_code == 422
        assert (await http.post(path, json={})).status_code == 401
