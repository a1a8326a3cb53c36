"""Fan-out units: one per iteration item, each with a document key prefix unique in the task.

An item is named by its first scalar ``id``, ``key``, ``name``, ``code`` or ``slug`` field
(else its position): ``region=north``. Two items with the same name get ``~<position>``
so their documents never share a key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["IDENTITY_FIELDS", "item_identity", "item_keys"]

IDENTITY_FIELDS = ("id", "key", "name", "code", "slug")


def item_identity(item: Mapping[str, Any], position: int) -> str:
    for name in IDENTITY_FIELDS:
        value = item.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value).replace("/", "%2F")
    return str(position)


def item_keys(foreach: str, items: Sequence[Mapping[str, Any]]) -> list[str]:
    """``<foreach>=<identity>`` per item, in order, all distinct."""
    keys: list[str] = []
    taken: set[str] = set()
    for position, item in enumerate(items):
        key = f"{foreach}={item_identity(item, position)}"
        if key in taken:
            key = f"{key}~{position}"
        taken.add(key)
        keys.append(key)
    return keys
