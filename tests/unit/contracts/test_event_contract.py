from __future__ import annotations

import json

import yaml

from headwater.contracts.schemas import asyncapi_document, committed_event_schemas, event_schemas
from headwater_ops.runtime.settings import project_dir


def test_committed_event_schemas_and_asyncapi_are_current() -> None:
    root = project_dir()
    assert committed_event_schemas(root) == json.loads(json.dumps(event_schemas())), (
        "schemas/events is stale: run `make schema`"
    )
    assert yaml.safe_load((root / "docs" / "asyncapi.yaml").read_text()) == json.loads(
        json.dumps(asyncapi_document())
    ), "docs/asyncapi.yaml is stale: run `make schema`"


def test_asyncapi_document_lists_every_domain_event_on_ingestion_events() -> None:
    doc = asyncapi_document()
    assert doc["asyncapi"] == "3.0.0"
    events = doc["channels"]["ingestion-events"]["messages"]
    assert set(events) == {
        "document_stored",
        "document_duplicate",
        "records_changed",
        "records_rolled_back",
        "task_failed",
    }
    for schema in event_schemas().values():
        assert "idempotency_key" in schema["required"]
