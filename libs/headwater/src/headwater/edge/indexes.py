"""Secondary indexes, declared next to the queries they serve.

Each service lists its indexes (``Index``) and the queries that read by something other than
``_id`` (``Query``) in ``<service>/adapters/mongo_indexes.py``, and creates the indexes at
start-up with ``create_indexes`` (``create_index`` with the same name, keys and options is a
no-op, so every start and every replica may call it). A ``Query`` with an ``index`` is a hot
query: ``tests/integration/test_indexes.py`` explains it on the real database and fails on a
collection scan. A ``Query`` without one reads the whole collection on purpose (a listing of
every source, a tally over every source) and says why.

Uniqueness is never an index here: it lives in deterministic ``_id``s (a unique compound index
makes FerretDB inserts ~70x slower), and every secondary index costs inserts too (on FerretDB
2.5 one single-field index takes ``insert_many`` from ~70k to ~15k docs/s), so a collection
gets an index only when a query needs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pymongo.asynchronous.database import AsyncDatabase

__all__ = ["Index", "Query", "create_indexes"]

Keys = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Index:
    """One secondary index: ``keys`` as ``((field, 1 | -1), …)``; ``options`` are extra
    ``create_index`` options (``expireAfterSeconds`` …), never ``unique``."""

    collection: str
    name: str
    keys: Keys
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Query:
    """The shape of one adapter read: ``filter`` (with sample values), ``sort``, whether it is a
    ``find`` or the ``$match`` of an ``aggregate``, the ``index`` that serves it (``None``: it
    reads the whole collection on purpose, ``why`` says why) and the adapter method it is."""

    reader: str
    collection: str
    filter: Mapping[str, Any]
    sort: Keys = ()
    index: str | None = None
    kind: Literal["find", "aggregate"] = "find"
    why: str = ""


async def create_indexes(db: AsyncDatabase[Any], indexes: Iterable[Index]) -> None:
    """Create every index in ``indexes`` on ``db``; idempotent. An index
    of the same name with other keys or options fails the start-up (drop it by hand first)."""
    for index in indexes:
        await db[index.collection].create_index(list(index.keys), name=index.name, **dict(index.options))
