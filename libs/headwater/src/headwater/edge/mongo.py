"""MongoDB helpers shared by the services' adapters.

FerretDB 2 reports a race of two upserts on the same ``_id`` as an ``InternalError``
("duplicate key value violates unique constraint") instead of MongoDB's code 11000;
``is_duplicate_key`` recognises both, and ``upsert_retrying`` repeats such an upsert once
(the second attempt finds the document and updates it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from pymongo.errors import DuplicateKeyError, OperationFailure

__all__ = ["is_duplicate_key", "upsert_retrying"]

T = TypeVar("T")


def is_duplicate_key(exc: BaseException) -> bool:
    if isinstance(exc, DuplicateKeyError):
        return True
    return isinstance(exc, OperationFailure) and (exc.code == 11000 or "duplicate key" in str(exc))


async def upsert_retrying(operation: Callable[[], Awaitable[T]], attempts: int = 3) -> T:
    for attempt in range(attempts):
        try:
            return await operation()
        except OperationFailure as exc:
            if not is_duplicate_key(exc) or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
