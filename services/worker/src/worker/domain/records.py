"""Record identity: natural keys and content hashes.

The natural key names a record across documents (``store.key``); the content hash tells
whether a record's content changed since the stored version (SCD-2 decides on it).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["KEY_SEPARATOR", "MissingKeyError", "natural_key", "record_content_hash"]

KEY_SEPARATOR = "|"


class MissingKeyError(KeyError):
    """A natural-key field is missing or empty; ``field`` (also ``args[0]``) names it."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field

    def __str__(self) -> str:
        return f"natural key field {self.field!r} is missing or empty"


def _part(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a key typed as number: 12.0 and "12" name the same record
    text = str(value).strip()
    # escaped only when present, so ordinary keys read as plain "a|b" and ("a|b", "c") ≠ ("a", "b|c")
    return text.replace("\\", "\\\\").replace(KEY_SEPARATOR, "\\" + KEY_SEPARATOR)


def natural_key(record: dict[str, Any], key_fields: list[str]) -> str:
    """The ``|``-joined text of the key fields, stripped; ``MissingKeyError`` when one is
    missing, ``None`` or blank. Part of every stored record's ``_id``."""
    parts = []
    for name in key_fields:
        value = record.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise MissingKeyError(name)
        parts.append(_part(value))
    return KEY_SEPARATOR.join(parts)


def record_content_hash(record: dict[str, Any]) -> str:
    """SHA-256 hex of the record's canonical JSON (sorted keys, compact, UTF-8; values JSON
    cannot represent, such as datetimes, as ``str``): equal content, equal hash, whatever the
    key order."""
    canonical = json.dumps(record, sort_keys=True, default=str, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
