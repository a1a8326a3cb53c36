"""MongoDB helpers shared by the services' adapters.

FerretDB 2 reports a race of two upserts on the same ``_id`` as an ``InternalError``
("duplicate key value violates unique constraint") instead of MongoDB's code 11000;
``is_duplicate_key`` recognises both, and ``upsert_retrying`` repeats such an upsert once
(the second attempt finds the document and updates it).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pymongo.errors import AutoReconnect, ConnectionFailure, DuplicateKeyError, NetworkTimeout, OperationFailure
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

__all__ = ["is_duplicate_key", "retry_transient", "upsert_retrying"]

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


TRANSIENT = (AutoReconnect, NetworkTimeout, ConnectionFailure)
C = TypeVar("C", bound=type)


def retry_transient(attempts: int = 4, max_wait: float = 4.0) -> Callable[[C], C]:
    """Class decorator: every public ``async def`` of a repository retries transient MongoDB
    errors (lost connection, timeout, failover) with exponential backoff and jitter before the
    error reaches the service layer. Safe because every write here is designed to be repeated."""

    def wrap(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(method)
        async def retrying(*args: Any, **kwargs: Any) -> Any:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(attempts),
                wait=wait_exponential_jitter(initial=0.1, max=max_wait),
                retry=retry_if_exception_type(TRANSIENT),
                reraise=True,
            ):
                with attempt:
                    return await method(*args, **kwargs)
            raise AssertionError("unreachable")

        return retrying

    def decorate(cls: C) -> C:
        for name, member in list(vars(cls).items()):
            if not name.startswith("_") and inspect.iscoroutinefunction(member):
                setattr(cls, name, wrap(member))
        return cls

    return decorate
