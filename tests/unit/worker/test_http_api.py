"""The worker's HTTP side on in-memory fakes: subscriptions map outcomes to Dapr, the operator
API goes through the service layer and maps its errors to status codes."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from worker_support import CONFIG, CSV1, App, busy, doc  # type: ignore[import-not-found]

from worker.entrypoints.app import create_app
from worker.settings import Settings

AUTH = {"authorization": "Bearer secret"}
RAW = "/events/pubsub/raw-documents"
DLQ = "/events/pubsub/raw-documents.dlq"


@dataclass
class Api:
    http: httpx.AsyncClient
    app: App


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    fakes = App(CONFIG)
    app = create_app(Settings())
    app.state.container, app.state.tokens = fakes.c, fakes.c.tokens  # what the lifespan sets
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://worker") as http:
        yield Api(http, fakes)


def event(data: dict[str, Any], event_id: str = "ev-1") -> dict[str, Any]:
    return {"id": event_id, "type": "com.dapr.event.sent", "data": data}


async def deliver(api: Api, data: dict[str, Any]) -> str:
    response = await api.http.post(RAW, json=event(data))
    assert response.status_code == 200
    status: str = response.json()["status"]
    return status


async def test_subscriptions_are_listed_with_their_dead_letter_topic(api: Api) -> None:
    subs = (await api.http.get("/dapr/subscribe")).json()
    mine = {s["topic"]: s for s in subs if s["topic"].startswith("raw-documents")}
    assert mine["raw-documents"]["deadLetterTopic"] == "raw-documents.dlq"
    # a dead letter whose handler fails goes to its own topic again: pending, not acknowledged
    assert mine["raw-documents.dlq"]["deadLetterTopic"] == "raw-documents.dlq"


async def test_raw_documents_map_to_success_and_drop(api: Api) -> None:
    stored = doc(CSV1).model_dump(mode="json")
    assert await deliver(api, stored) == "SUCCESS"
    assert await deliver(api, {**stored, "task_id": "prices:t2"}) == "SUCCESS"  # duplicate
    assert await deliver(api, {"source_id": "prices"}) == "DROP"  # malformed: never reaches the processor
    assert api.app.events.types() == ["records.changed", "document.stored", "document.duplicate"]
    assert await deliver(api, doc("x\n1\n", version=9).model_dump(mode="json")) == "DROP"  # unknown config
    assert api.app.events.types()[-1] == "task.failed"


async def test_a_document_another_delivery_is_processing_is_retried(api: Api) -> None:
    await busy(api.app, doc(CSV1, task="prices:t0"))

    assert await deliver(api, doc(CSV1).model_dump(mode="json")) == "RETRY"
    assert api.app.events.types() == [] and api.app.results.results == []


async def test_dead_letters_are_kept_listed_and_replayed(api: Api) -> None:
    letter = {"source_id": "prices", "task_id": "prices:t1", "config_version": 0, "content": "x"}
    response = await api.http.post(DLQ, json=event(letter, "e/1:x"))
    assert response.json() == {"status": "SUCCESS"}

    listed = await api.http.get("/api/v1/dead-letters", headers=AUTH)
    assert listed.status_code == 200
    assert listed.json() == [
        {
            "id": "e/1:x",
            "topic": "raw-documents",
            "source_id": "prices",
            "task_id": "prices:t1",
            "received_at": "2026-02-01T00:00:00+00:00",
            "replayed_at": None,
            "outcome": "parked",
            "cause": listed.json()[0]["cause"],
        }
    ]
    assert listed.json()[0]["cause"].startswith("malformed raw document: ")
    replayed = await api.http.post("/api/v1/dead-letters/replay", json={"id": "e/1:x"}, headers=AUTH)
    assert replayed.status_code == 200 and replayed.json() == {"id": "e/1:x", "status": "replayed"}
    assert api.app.republisher.sent == [("raw-documents", {**letter, "config_version": 1})]

    again = await api.http.post("/api/v1/dead-letters/replay", json={"id": "e/1:x"}, headers=AUTH)
    assert again.status_code == 404
    assert again.json() == {"detail": "dead letter 'e/1:x' not found or already replayed"}
    assert (await api.http.get("/api/v1/dead-letters", headers=AUTH)).json() == []
    everything = (await api.http.get("/api/v1/dead-letters", params={"all": "true"}, headers=AUTH)).json()
    assert [d["replayed_at"] for d in everything] == ["2026-02-01T00:00:00+00:00"]


async def test_rollback_answers_the_result_then_409_and_unknown_versions_404(api: Api) -> None:
    await api.app.c.processor.handle(doc(CSV1))
    second = await api.app.c.processor.handle(doc(CSV1.replace("1.50", "1.75"), task="prices:t2"))
    url = f"/api/v1/datasets/{second.document_id}/rollback"

    first = await api.http.post(url, headers=AUTH)
    again = await api.http.post(url, headers=AUTH)
    unknown = await api.http.post("/api/v1/datasets/prices:nope/rollback", headers=AUTH)

    assert first.status_code == 200
    assert first.json() == {"version": second.document_id, "restored": 1, "removed": 0, "conflicts": 0}
    assert again.status_code == 409
    assert again.json() == {"detail": f"dataset version {second.document_id!r} was already rolled back"}
    assert unknown.status_code == 404 and unknown.json() == {"detail": "dataset version 'prices:nope' not found"}


async def test_audit_trail_is_newest_first_and_filtered(api: Api) -> None:
    first = await api.app.c.processor.handle(doc(CSV1))
    api.app.clock.tick()
    await api.app.c.processor.handle(doc(CSV1, task="prices:t2"))
    api.app.clock.tick()
    await api.app.c.rollback.rollback(first.document_id)

    trail = (await api.http.get("/api/v1/audit", params={"source": "prices"}, headers=AUTH)).json()

    assert trail[0] == {
        "at": "2026-02-01T00:02:00+00:00",
        "source_id": "prices",
        "document_id": first.document_id,
        "task_id": None,
        "step": "rollback",
        "outcome": "done",
        "counts": {"restored": 0, "removed": 2, "conflicts": 0},
        "error": None,
    }
    assert trail[1] == {
        "at": "2026-02-01T00:01:00+00:00",
        "source_id": "prices",
        "document_id": first.document_id,
        "task_id": "prices:t2",
        "step": "dedup",
        "outcome": "duplicate",
        "counts": {},
        "error": None,
    }
    # same instant: MongoDB does not promise an order between these two
    assert sorted((r["step"], r["outcome"], r["task_id"], r["at"]) for r in trail[2:]) == [
        ("dedup", "new", "prices:t1", "2026-02-01T00:00:00+00:00"),
        ("store", "done", "prices:t1", "2026-02-01T00:00:00+00:00"),
    ]
    assert len((await api.http.get("/api/v1/audit", params={"limit": 1}, headers=AUTH)).json()) == 1
    assert (await api.http.get("/api/v1/audit", params={"source": "other"}, headers=AUTH)).json() == []
    by_document = (await api.http.get("/api/v1/audit", params={"document": first.document_id}, headers=AUTH)).json()
    assert len(by_document) == 4
    assert (await api.http.get("/api/v1/audit", params={"document": "x"}, headers=AUTH)).json() == []


async def test_summary_counts_documents_records_and_rejected_rows_per_source(api: Api) -> None:
    await api.app.c.processor.handle(doc(CSV1))
    await api.app.c.processor.handle(doc(CSV1, task="prices:t2"))
    broken = base64.b64encode(b"\xff\xfe\xfd").decode()  # a UTF-16 BOM, then half a character
    data = {**doc("").model_dump(mode="json"), "content": broken, "encoding": "base64"}
    assert await deliver(api, data) == "DROP"

    everything = (await api.http.get("/api/v1/summary", headers=AUTH)).json()
    mine = (await api.http.get("/api/v1/summary", params={"source": "prices"}, headers=AUTH)).json()
    other = (await api.http.get("/api/v1/summary", params={"source": "other"}, headers=AUTH)).json()

    assert (
        everything
        == mine
        == {
            "sources": {"prices": {"stored": 1, "failed": 1, "duplicates": 1, "records": 2, "rows_rejected": 3}},
            "counters": {
                "headwater.worker.documents_duplicate": 1,
                "headwater.worker.documents_failed": 1,
                "headwater.worker.documents_stored": 1,
                "headwater.worker.records_created": 2,
                "headwater.worker.rows_rejected": 2,
            },
        }
    )
    assert other == {"sources": {}, "counters": mine["counters"]}


async def test_operator_routes_need_the_api_token(api: Api) -> None:
    for method, url in [
        ("GET", "/api/v1/summary"),
        ("GET", "/api/v1/audit"),
        ("GET", "/api/v1/dead-letters"),
        ("POST", "/api/v1/datasets/x/rollback"),
        ("GET", "/api/v1/records/history?source=prices&key=A"),
    ]:
        response = await api.http.request(method, url, headers={"authorization": "Bearer wrong"})
        assert response.status_code == 401, url


async def test_a_records_history_lists_its_versions_in_time_order(api: Api) -> None:
    first = await api.app.c.processor.handle(doc(CSV1))
    api.app.clock.tick()
    second = await api.app.c.processor.handle(doc(CSV1.replace("1.50", "1.75"), task="prices:t2"))
    url = "/api/v1/records/history"

    found = (await api.http.get(url, params={"source": "prices", "key": "A"}, headers=AUTH)).json()
    missing = await api.http.get(url, params={"source": "prices", "key": "nope"}, headers=AUTH)

    assert found["source_id"] == "prices" and found["key"] == "A"
    assert [(v["version"], v["data"]["price"], v["current"], v["deleted"]) for v in found["versions"]] == [
        (1, 1.5, False, False),
        (2, 1.75, True, False),
    ]
    assert found["versions"][0] | {"data": None} == {
        "version": 1,
        "valid_from": "2026-02-01T00:00:00+00:00",
        "valid_to": "2026-02-01T00:01:00+00:00",
        "current": False,
        "deleted": False,
        "dataset_version": first.document_id,
        "data": None,
    }
    assert found["versions"][1]["dataset_version"] == second.document_id
    assert missing.status_code == 404 and missing.json() == {"detail": "no record 'nope' in source 'prices'"}
