"""``python -m headwater.config.schema`` (``make schema``): rewrite every committed JSON Schema.

That is schemas/source-config.schema.json (``contract_schema``) and the event schemas of
``headwater.contracts``. Kept apart from ``contract_schema`` so that the package never imports
this module, which ``python -m`` runs.
"""

from __future__ import annotations

import sys

from headwater.config.contract_schema import SCHEMA_ID, SCHEMA_PATH, json_schema, render_schema, write_schema

__all__ = ["SCHEMA_ID", "SCHEMA_PATH", "json_schema", "main", "render_schema", "write_schema"]


def main() -> None:
    """Write the source config schema and the event schemas under the project directory."""
    from headwater.contracts.schemas import write_all
    from headwater.runtime.settings import project_dir

    root = project_dir()
    for path in [write_schema(root), *write_all(root)]:
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
