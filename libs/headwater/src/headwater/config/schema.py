"""JSON Schema of the source config (committed at schemas/source-config.schema.json).

Regenerate with ``make schema`` (``python -m headwater.config.schema``).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from headwater.config.models import SourceConfig

__all__ = ["SCHEMA_ID", "json_schema", "render_schema"]

SCHEMA_ID = "https://headwater.dev/schemas/source-config.schema.json"


def json_schema() -> dict[str, Any]:
    schema = SourceConfig.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Headwater source config",
        **schema,
    }


def render_schema() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=False) + "\n"


def main() -> None:
    from headwater.runtime.settings import project_dir

    target = project_dir() / "schemas" / "source-config.schema.json"
    target.parent.mkdir(exist_ok=True)
    target.write_text(render_schema())
    print(f"wrote {target}", file=sys.stderr)
    from headwater.contracts.schemas import write_all

    for path in write_all(project_dir()):
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
