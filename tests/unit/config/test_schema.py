"""The committed JSON Schema matches the models and accepts the example configs."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from headwater.config import json_schema
from headwater.config.contract_schema import SCHEMA_ID, render_schema

ROOT = Path(__file__).resolve().parents[3]
COMMITTED = ROOT / "schemas" / "source-config.schema.json"
EXAMPLES = sorted((ROOT / "config" / "source-configs").glob("*.yaml"))


def test_committed_schema_is_current() -> None:
    assert COMMITTED.read_text() == render_schema(), (
        "schemas/source-config.schema.json is stale: regenerate it with `make schema` "
        "(or `.venv/bin/python -m headwater_ops.schema`)"
    )


def test_schema_header() -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_ID and schema["title"] == "Headwater source config"
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"source_id", "ingestion"}
    assert {"map", "validate"} <= set(schema["properties"])
    Draft202012Validator.check_schema(schema)


def _as_json(value: Any) -> Any:
    """What an editor sees: YAML timestamps are strings in JSON."""
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat().replace("+00:00", "Z")
    return value


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_satisfy_the_schema(path: Path) -> None:
    validator = Draft202012Validator(json.loads(COMMITTED.read_text()))
    errors = [e.message for e in validator.iter_errors(_as_json(yaml.safe_load(path.read_text())))]
    assert errors == []


@pytest.mark.parametrize(
    "document",
    [
        {"source_id": "s", "ingestion": {"mode": "push"}, "colour": "blue"},
        {"source_id": "Bad Id", "ingestion": {"mode": "push"}},
        {"source_id": "s", "ingestion": {"mode": "push", "retry": {"max_attempts": 0}}},
        {"source_id": "s", "ingestion": {"schedule": "0 0 6 * * *"}},
        {
            "source_id": "s",
            "ingestion": {"window": {"cadence": "1 hour", "start": "2026-01-01T00:00:00Z", "slice": "1h"}},
        },
    ],
)
def test_the_schema_catches_what_editors_can_see(document: dict[str, Any]) -> None:
    assert not Draft202012Validator(json_schema()).is_valid(document)
