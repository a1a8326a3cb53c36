"""Store errors as the planner's service layer sees them.

Every public coroutine of the planner's MongoDB adapters retries a transient store error with
exponential backoff and jitter (every write here is safe to repeat); one that persists becomes
``StoreUnavailable`` with the reason, which the HTTP API answers 503 and the task-result
subscription answers ``RETRY`` (after holding the delivery for a while).

Transient is ``headwater.edge.mongo.is_transient`` (pymongo's ``ConnectionFailure`` family,
MongoDB's failover codes, FerretDB's ``InternalError`` wrapping a lost PostgreSQL). The budget
here is short (about 2 s): an HTTP caller gets its 503 at once, and the task-result handler
holds the delivery and calls again (``entrypoints/background.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pymongo.errors import PyMongoError

from headwater.edge.mongo import is_transient, retry_transient
from planner.service_layer.errors import StoreUnavailable

__all__ = ["is_store_unavailable", "store_calls"]

C = TypeVar("C", bound=type)


def is_store_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the store cannot be reached right now (not: the request was wrong)."""
    return is_transient(exc)


def _unavailable(exc: PyMongoError) -> StoreUnavailable:
    text = " ".join(str(exc).split())
    return StoreUnavailable(f"the store is unavailable ({type(exc).__name__}: {text[:300]})")


def store_calls(attempts: int = 4, max_wait: float = 2.0) -> Callable[[C], C]:
    """Class decorator: retry transient store errors of every public ``async def``, then raise
    ``StoreUnavailable`` (see the module docstring)."""
    return retry_transient(attempts=attempts, max_wait=max_wait, initial=0.2, give_up=_unavailable)
