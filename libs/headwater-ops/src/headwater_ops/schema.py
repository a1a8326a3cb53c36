"""``python -m headwater_ops.schema`` (``make schema``): rewrite every committed JSON Schema.

That is schemas/source-config.schema.json (``headwater.config.contract_schema``) and the
event schemas and AsyncAPI document of ``headwater.contracts``. The platform library only
renders them for a given root; finding the checkout to write into is operator tooling, so
this entry point lives here rather than in ``headwater``.
"""

from __future__ import annotations

import sys

from headwater.config.contract_schema import write_schema
from headwater.contracts.schemas import write_all
from headwater_ops.runtime.settings import project_dir

__all__ = ["main"]


def main() -> None:
    """Write the source config schema and the event schemas under the project directory."""
    root = project_dir()
    for path in [write_schema(root), *write_all(root)]:
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
