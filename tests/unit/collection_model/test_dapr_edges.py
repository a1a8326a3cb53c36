"""The Dapr publishing adapters through the real sidecar client, against a local server standing
in for the sidecar: what goes on ``raw-documents`` (the task's last document carries its end)
and on ``ingestion-events`` (CloudEvent type and id, bulk for several)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from cm_server import FakeApi, Seen  # type: ignore[import-not-found]

from collection_model.adapters.dapr_edges import DaprDocumentPublisher, DaprEventPublisher, DaprSecretProvider
from collection_model.service_layer.fetch import ItemFailure
from collection_model.service_layer.ports import TaskEnd
from collection_model.service_layer.work import failure_events
from headwater.contracts.messages import FetchTask, RawDocument
from headwater.edge.blobs import MongoBlobStore
from headwater.edge.logging import secrets
from headwater.edge.sidecar import DaprSidecar

SINGLE = "/v1.0/publish/pubsub/{topic}"
BULK = "/v1.0-alpha1/publish/bulk/pubsub/{topic}"
TASK = FetchTask(source_id="prices", config_version=2, task_id="prices:tick", run_id="r7")


def accepted(r: Seen) -> web.Response:
    return web.Response(status=204)


@pytest.fixture
async def sidecar() -> AsyncIterator[tuple[DaprSidecar, FakeApi]]:
    routes = {p.format(topic=t): accepted for p in (SINGLE, BULK) for t in ("raw-documents", "ingestion-events")}
    fake = FakeApi(routes)
    port = await fake.start()
    client = DaprSidecar(f"http://127.0.0.1:{port}")
    try:
        yield client, fake
    finally:
        await client.aclose()
        await fake.close()


def bodies(fake: FakeApi) -> list[Any]:
    return [json.loads(r.body) for r in fake.requests]


def documents(n: int) -> list[tuple[str, bytes, str, dict[str, Any]]]:
    return [(f"page-{i}", b'{"items": []}', "application/json", {"page": i}) for i in range(1, n + 1)]


async def test_the_last_document_of_a_bulk_carries_the_task_end(sidecar: tuple[DaprSidecar, FakeApi]) -> None:
    client, fake = sidecar
    publisher = DaprDocumentPublisher(client, MongoBlobStore({"blobs": None}), 1024)  # type: ignore[arg-type]
    await publisher.publish_documents(TASK, documents(2))
    await publisher.publish_documents(TASK, documents(3)[2:], TaskEnd(3, False))
    assert fake.paths() == [BULK.format(topic="raw-documents"), SINGLE.format(topic="raw-documents")]
    bulk, last = bodies(fake)
    docs = [RawDocument.model_validate(e["event"]) for e in bulk] + [RawDocument.model_validate(last)]
    assert [(d.document_key, d.documents_in_task, d.snapshot_complete) for d in docs] == [
        ("page-1", None, None),
        ("page-2", None, None),
        ("page-3", 3, False),
    ]
    assert {d.run_id for d in docs} == {"r7"}


async def test_task_failed_events_are_cloudevents_of_their_type(sidecar: tuple[DaprSidecar, FakeApi]) -> None:
    client, fake = sidecar
    publisher = DaprEventPublisher(client, batch=2)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    await publisher.publish_events(failure_events(TASK, [ItemFailure("request", "HTTP 500")], now))
    [single] = fake.requests
    assert single.path == SINGLE.format(topic="ingestion-events")
    assert single.query["metadata.cloudevent.type"] == "task.failed"
    assert single.query["metadata.cloudevent.id"] == "task.failed:prices:tick:r7:request"
    assert json.loads(single.body)["stage"] == "fetch"

    failures = [ItemFailure(f"region=r{i}", "down") for i in range(3)]
    await publisher.publish_events(failure_events(TASK, failures, now))
    assert fake.paths()[1:] == [BULK.format(topic="ingestion-events")] * 2  # batches of 2
    entries = [e for body in bodies(fake)[1:] for e in body]
    assert [e["metadata"]["cloudevent.type"] for e in entries] == ["task.failed"] * 3
    assert [e["entryId"] for e in entries] == [f"task.failed:prices:tick:r7:region=r{i}" for i in range(3)]
    assert [e["event"]["error"] for e in entries] == [f"region=r{i}: down" for i in range(3)]


async def test_a_secret_reference_is_the_secret_and_its_key_in_every_store() -> None:
    """`products-api:api_key` asks the store for the secret `products-api` (a Kubernetes Secret,
    a multiValued local-file entry) and takes its key `api_key`; the value is masked in logs."""
    secret = {"api_key": "k-81f3", "other": "o"}
    fake = FakeApi({"/v1.0/secrets/secretstore/products-api": lambda r: web.json_response(secret)})
    client = DaprSidecar(f"http://127.0.0.1:{await fake.start()}")
    try:
        provider = DaprSecretProvider(client)
        assert await provider.get_secret("secretstore", "products-api:api_key") == "k-81f3"
        assert await client.secret_value("secretstore", "products-api:missing") is None
        with pytest.raises(LookupError, match="products-api:missing"):
            await provider.get_secret("secretstore", "products-api:missing")
        with pytest.raises(LookupError, match="not readable"):
            await provider.get_secret("secretstore", "nope:api_key")
        assert fake.paths()[0] == "/v1.0/secrets/secretstore/products-api"
        assert "k-81f3" not in secrets.mask("token k-81f3")
    finally:
        await client.aclose()
        await fake.close()
