"""Record identity: natural keys and content hashes.

The natural key names a record across documents (``store.key``); the content hash tells
whether a record's content changed since the stored version (SCD-2 decides on it).
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, date, datetime, time
from typing import Any

import orjson

__all__ = [
    "KEY_SEPARATOR",
    "MissingKeyError",
    "canonical_json",
    "effective_time",
    "natural_key",
    "record_content_hash",
]

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
    key order.

    The canonical text is ``json.dumps(sort_keys=True, default=str, separators=(",", ":"),
    ensure_ascii=False)`` (``canonical_json``); orjson writes the same bytes several times
    faster for everything but a few values (``_orjson_differs``), which take the slow path, so
    the hashes stored before stay valid."""
    if not _orjson_differs(record):
        try:
            return hashlib.sha256(orjson.dumps(record, option=_ORJSON, default=str)).hexdigest()
        except (TypeError, orjson.JSONEncodeError):
            pass  # an integer beyond 64 bits, a lone surrogate, a non-text key: the reference path
    return hashlib.sha256(canonical_json(record)).hexdigest()


def canonical_json(record: Any) -> bytes:
    """The reference canonical JSON of a record (what its content hash is of)."""
    text = json.dumps(record, sort_keys=True, default=str, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "surrogatepass")


# datetimes and dataclasses go to ``default=str`` as with json; the keys are sorted
_ORJSON = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_TINY = 1e-4  # json writes 1e-05, orjson 0.00001: below this magnitude floats differ


def _orjson_differs(value: Any) -> bool:
    """Whether ``value`` holds something orjson writes differently from json: a float that is
    not finite or below 1e-4 in magnitude, or a type other than the plain JSON ones."""
    kind = type(value)
    if kind is dict:
        for k, v in value.items():
            t = type(v)
            plain = t is str or t is int or t is bool or v is None
            if type(k) is not str or (not plain and _orjson_differs(v)):
                return True
        return False
    if kind is str or kind is int or kind is bool or value is None:
        return False
    if kind is float:
        return not math.isfinite(value) or (value != 0.0 and -_TINY < value < _TINY)
    if kind is list or kind is tuple:
        return any(_orjson_differs(v) for v in value)
    return kind not in _BY_STR


_BY_STR = (datetime, date, time)  # written as str() by both (``OPT_PASSTHROUGH_DATETIME``)


def effective_time(record: dict[str, Any], path: str) -> datetime:
    """The value at the dotted ``path`` of ``record`` as an aware datetime (``store.valid_from_path``):
    a datetime, a date (its midnight) or ISO-8601 text; naive means UTC. ``ValueError`` saying why
    when it is missing or not a time."""
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, str) and value.strip():
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO-8601 date or datetime") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if not isinstance(value, datetime):
        raise ValueError("missing" if value in (None, "") else f"{value!r} is not a date or datetime")
    return value if value.tzinfo else value.replace(tzinfo=UTC)
