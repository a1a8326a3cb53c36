"""Natural keys and record content hashes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["MissingKeyError", "natural_key", "record_content_hash"]


class MissingKeyError(KeyError):
    """A natural-key field is missing or empty; ``args[0]`` is the field."""


def natural_key(record: dict[str, Any], key_fields: list[str]) -> str:
    parts = []
    for name in key_fields:
        value = record.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise MissingKeyError(name)
        parts.append(str(value).strip())
    return "|".join(parts)


def record_content_hash(record: dict[str, Any]) -> str:
    canonical = json.dumps(record, sort_keys=True, default=str, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
