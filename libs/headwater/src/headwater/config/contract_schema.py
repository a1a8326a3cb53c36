"""JSON Schema of the source config (committed at schemas/source-config.schema.json).

Editors use it through the ``# yaml-language-server: $schema=...`` line of each config.
Regenerate it with ``make schema`` (``python -m headwater_ops.schema``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from headwater.config.models import SourceConfig

__all__ = ["SCHEMA_ID", "SCHEMA_PATH", "json_schema", "render_schema", "write_schema"]

SCHEMA_ID = "https://headwater.dev/schemas/source-config.schema.json"
SCHEMA_PATH = Path("schemas") / "source-config.schema.json"


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a source config file, with YAML key names."""
    schema = SourceConfig.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "Headwater source config",
        "description": "One data source: how it is fetched, parsed, mapped, validated and stored "
        "(docs/source-config-shape.md).",
    }


def render_schema() -> str:
    """The schema file's exact text: 2-space indent, trailing newline."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def write_schema(root: Path) -> Path:
    """Write ``schemas/source-config.schema.json`` under the project ``root``; returns its path."""
    target = root / SCHEMA_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_schema(), encoding="utf-8")
    return target
