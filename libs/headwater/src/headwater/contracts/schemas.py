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

from headwater.contracts.delivery import DELIVERY, SERVERS, channel_bindings, cloudevent_headers
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


_COMMANDS: dict[str, type[BaseModel]] = {"FetchTask": FetchTask, "RawDocument": RawDocument, "TaskResult": TaskResult}
_DESCRIPTION = (
    "Messages on Headwater's Dapr pub/sub topics. Every message is the data of a "
    "CloudEvent 1.0 delivered by the subscriber's own Dapr sidecar (servers); domain events "
    "carry an idempotency_key (also the CloudEvent id) so subscribers can drop repeats of "
    "at-least-once delivery. docs/subscribers.md walks a new subscriber through it."
)


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every topic: domain events and the services' commands."""
    messages = {**_event_messages(), **_command_messages()}
    channels = _channels([k for k in messages if k not in _COMMANDS])
    operations = {
        f"receive_{c.replace('-', '_')}": {"action": "receive", "channel": {"$ref": f"#/channels/{c}"}}
        for c in channels
    }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Headwater events", "version": "1.0.0", "description": _DESCRIPTION},
        "defaultContentType": "application/json",
        "servers": SERVERS,
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def _event_messages() -> dict[str, Any]:
    messages: dict[str, Any] = {}
    for name, schema in event_schemas().items():
        body = {k: v for k, v in schema.items() if k not in ("$schema", "$id")}
        messages[name.replace(".", "_")] = {
            "name": name,
            "title": schema.get("title", name),
            "summary": schema.get("description", ""),
            "contentType": "application/json",
            "headers": cloudevent_headers(name),
            "payload": body,
        }
    return messages


def _command_messages() -> dict[str, Any]:
    return {
        key: {
            "name": key,
            "contentType": "application/json",
            "payload": model.model_json_schema(mode="serialization", by_alias=True),
        }
        for key, model in _COMMANDS.items()
    }


def _channels(event_keys: list[str]) -> dict[str, Any]:
    def refs(*keys: str) -> dict[str, Any]:
        return {k: {"$ref": f"#/components/messages/{k}"} for k in keys}

    return {
        "ingestion-events": {
            "address": INGESTION_EVENTS,
            "description": "Domain events (CloudEvents via Dapr pub/sub)",
            "servers": [{"$ref": f"#/servers/{name}"} for name in SERVERS],
            "messages": refs(*event_keys),
            **channel_bindings(INGESTION_EVENTS),
            "x-delivery": DELIVERY,
        },
        "work-items": {"address": WORK_ITEMS, "messages": refs("FetchTask")},
        "raw-documents": {"address": RAW_DOCUMENTS, "messages": refs("RawDocument")},
        "task-results": {"address": TASK_RESULTS, "messages": refs("TaskResult")},
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
