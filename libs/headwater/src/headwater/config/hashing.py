"""The normalised form of a source config and its hash (what the planner stores and compares)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from headwater.config.models import SourceConfig

__all__ = ["config_hash", "dump_source_config"]


def dump_source_config(config: SourceConfig) -> dict[str, Any]:
    """The normalised form: YAML key names, every default filled in, JSON types only
    (durations as ``1h30m``, times as ISO 8601 UTC). ``SourceConfig.model_validate`` reads it back."""
    return config.model_dump(mode="json", by_alias=True)


def config_hash(config: SourceConfig) -> str:
    """SHA-256 (hex) of the canonical JSON of the normalised form: equal for configs that
    mean the same, whatever their key order, spelling of defaults or duration style."""
    canonical = json.dumps(dump_source_config(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
