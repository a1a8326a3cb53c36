"""The published event contract: JSON Schemas per event type and an AsyncAPI 3.0 document.

Committed under ``schemas/events/`` and ``docs/asyncapi.yaml``; ``make schema`` rewrites
them and a unit test fails when they are stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from headwater.contracts.events import EVENT_MODELS
from headwater.contracts.messages import FetchTask, RawDocument, TaskResult
from headwater.contracts.topics import INGESTION_EVENTS, RAW_DOCUMENTS, TASK_RESULTS, WORK_ITEMS

__all__ = ["asyncapi_document", "committed_event_schemas", "event_schemas", "write_all"]

BASE_ID = "https://headwater.dev/schemas/events"


def event_schemas() -> dict[str, dict[str, Any]]:
    out = {}
    for name, model in EVENT_MODELS.items():
        schema = model.model_json_schema(mode="serialization")
        out[name] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{BASE_ID}/{name}.json",
            **schema,
        }
    return out


def committed_event_schemas(root: Path) -> dict[str, dict[str, Any]]:
    return {
        p.name.removesuffix(".schema.json"): json.loads(p.read_text())
        for p in sorted((root / "schemas" / "events").glob("*.schema.json"))
    }


def asyncapi_document() -> dict[str, Any]:
    messages: dict[str, Any] = {}
    for name, schema in event_schemas().items():
        key = name.replace(".", "_")
        body = {k: v for k, v in schema.items() if k not in ("$schema", "$id")}
        messages[key] = {
            "name": name,
            "title": schema.get("title", name),
            "summary": schema.get("description", ""),
            "contentType": "application/json",
            "headers": {"type": "object", "properties": {"type": {"const": name}}},
            "payload": body,
        }
    commands: dict[str, type[BaseModel]] = {
        "FetchTask": FetchTask,
        "RawDocument": RawDocument,
        "TaskResult": TaskResult,
    }
    for key, model in commands.items():
        messages[key] = {
            "name": key,
            "contentType": "application/json",
            "payload": model.model_json_schema(mode="serialization", by_alias=True),
        }
    channels = {
        "ingestion-events": {
            "address": INGESTION_EVENTS,
            "description": "Domain events (CloudEvents via Dapr pub/sub)",
            "messages": {k: {"$ref": f"#/components/messages/{k}"} for k in messages if k not in commands},
        },
        "work-items": {"address": WORK_ITEMS, "messages": {"FetchTask": {"$ref": "#/components/messages/FetchTask"}}},
        "raw-documents": {
            "address": RAW_DOCUMENTS,
            "messages": {"RawDocument": {"$ref": "#/components/messages/RawDocument"}},
        },
        "task-results": {
            "address": TASK_RESULTS,
            "messages": {"TaskResult": {"$ref": "#/components/messages/TaskResult"}},
        },
    }
    operations = {
        f"receive_{c.replace('-', '_')}": {"action": "receive", "channel": {"$ref": f"#/channels/{c}"}}
        for c in channels
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Headwater events",
            "version": "1.0.0",
            "description": "Messages on Headwater's Dapr pub/sub topics. Every message is the data of a "
            "CloudEvent 1.0; domain events carry an idempotency_key (also the CloudEvent "
            "id) so subscribers can drop repeats of at-least-once delivery.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def write_all(root: Path) -> list[Path]:
    written = []
    folder = root / "schemas" / "events"
    folder.mkdir(parents=True, exist_ok=True)
    for name, schema in event_schemas().items():
        path = folder / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2) + "\n")
        written.append(path)
    doc = root / "docs" / "asyncapi.yaml"
    doc.write_text(yaml.safe_dump(asyncapi_document(), sort_keys=False, allow_unicode=True))
    written.append(doc)
    return written
