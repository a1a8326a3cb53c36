"""The items of an iteration: read from an MCP tool's result, then one fan-out unit per item,
each with a document key prefix unique in the task.

An item is named by its first scalar ``id``, ``key``, ``name``, ``code`` or ``slug`` field
(else its position): ``region=north``. Two items with the same name get ``~<position>``
so their documents never share a key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import jmespath

__all__ = [
    "DEFAULT_ITEM_KEYS",
    "IDENTITY_FIELDS",
    "ItemListingError",
    "item_identity",
    "item_keys",
    "items_from_result",
]

IDENTITY_FIELDS = ("id", "key", "name", "code", "slug")
DEFAULT_ITEM_KEYS = ("result", "items")


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


class ItemListingError(Exception):
    """The items of an iteration could not be listed; the message names the MCP server, the
    tool and the reason (a protocol error, a timeout, ``isError``, a result without items)."""

    def __init__(self, server: str, tool: str, reason: str) -> None:
        super().__init__(f"MCP server {server!r}, tool {tool!r}: {reason}")
        self.server, self.tool, self.reason = server, tool, reason


def items_from_result(structured: Any, texts: Sequence[str], items_path: str = "") -> list[dict[str, Any]]:
    """The item list of a tool result. With ``items_path`` (JMESPath), what it selects in the
    ``structuredContent`` (or, without one, in the JSON text content). Without it, the first of:
    ``structuredContent`` when it is a list, its ``result`` (what the MCP SDKs wrap a returned
    list in) or ``items`` when a list, then the JSON text content — one text holding the list
    (or such an object), or one JSON object per text block (the SDKs' form of a returned list).
    Raises ValueError saying what was found instead."""
    document = structured if structured is not None else _parsed_texts(texts, as_is=bool(items_path))
    if items_path:
        found = jmespath.search(items_path, document)
        where = f"items_path {items_path!r}"
    else:
        found, where = _default_items(document)
    if not isinstance(found, list):
        raise ValueError(f"{where} selects {_kind(found)}, not a list of items")
    for position, item in enumerate(found):
        if not isinstance(item, dict):
            raise ValueError(f"{where}: item {position} is {_kind(item)}, not an object")
    return found


def _default_items(document: Any) -> tuple[Any, str]:
    if isinstance(document, dict):
        for key in DEFAULT_ITEM_KEYS:
            if isinstance(document.get(key), list):
                return document[key], f"{key!r}"
        return document, f"the result (an object with keys {sorted(document)[:5]}; set items_path)"
    return document, "the result"


def _parsed_texts(texts: Sequence[str], as_is: bool) -> Any:
    """Several texts: the list of their JSON values; none: an empty list; one: its JSON when
    ``as_is`` or when it is a list or holds one, else a list of that one value (one item)."""
    values = []
    for n, text in enumerate(texts):
        try:
            values.append(json.loads(text))
        except ValueError:
            raise ValueError(f"text content {n} is not JSON: {text[:80]!r}") from None
    if len(values) == 1 and (as_is or isinstance(values[0], list) or _has_items(values[0])):
        return values[0]
    return values


def _has_items(value: Any) -> bool:
    return isinstance(value, dict) and any(isinstance(value.get(key), list) for key in DEFAULT_ITEM_KEYS)


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"a {type(value).__name__}"
