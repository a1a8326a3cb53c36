"""MongoDB helpers shared by the services' adapters: duplicate keys, transient errors, retries.

FerretDB 2 reports a race of two upserts on the same ``_id`` as an ``InternalError``
("duplicate key value violates unique constraint") instead of MongoDB's code 11000;
``is_duplicate_key`` recognises both, and ``upsert_retrying`` repeats such an upsert once
(the second attempt finds the document and updates it).

**Transient means the store is unavailable right now, not that the request was wrong**
(``is_transient``): pymongo's ``ConnectionFailure`` family (``AutoReconnect``,
``NetworkTimeout``, ``ServerSelectionTimeoutError``, ``WaitQueueTimeoutError``); MongoDB's
failover / shutdown codes (``NotWritablePrimary``, ``ShutdownInProgress``, …) and the
``RetryableWriteError`` label; and FerretDB's ``OperationFailure`` ``InternalError`` (code 1)
whose message shows that it lost PostgreSQL behind it — e.g. ``failed to connect to `user=…
database=…`: 127.0.0.1:5432 (127.0.0.1): dial error: dial tcp 127.0.0.1:5432: connect:
connection refused`` while PostgreSQL is stopped, ``FATAL: the database system is shutting
down (SQLSTATE 57P01)`` / ``is starting up (SQLSTATE 57P03)`` around a restart, ``conn closed``
or ``unexpected EOF`` for a connection cut mid-command. A bulk write is transient when one of
its write errors is. A duplicate key is never transient, nor any other ``InternalError``.

``retry_transient`` retries such errors inside the service with exponential backoff for up to
``budget_s`` (60 s by default: a database restart fits in it); an error that persists reaches
the service layer, and the subscription answers RETRY — a message is never acknowledged while
the store is down.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from pymongo.errors import BulkWriteError, ConnectionFailure, DuplicateKeyError, OperationFailure, PyMongoError
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

__all__ = ["is_duplicate_key", "is_transient", "retry_transient", "upsert_retrying"]

T = TypeVar("T")
C = TypeVar("C", bound=type)

# MongoDB's codes for "not now": host unreachable / not found, network timeout, shutdown in
# progress, primary stepped down, exceeded time limit, socket exception, not writable primary,
# interrupted at shutdown / by a replica-state change, not primary (no secondary ok / or secondary).
TRANSIENT_CODES = frozenset({6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436})
INTERNAL_ERROR = 1  # FerretDB's InternalError: transient only with one of the markers below
# what FerretDB's InternalError says when PostgreSQL behind it is stopped, restarting or cut off
POSTGRES_DOWN = (
    "connection refused",
    "failed to connect to",
    "dial error",
    "dial tcp",
    "the database system is",
    "server closed the connection",
    "terminating connection",
    "connection reset",
    "broken pipe",
    "unexpected eof",
    "conn closed",
    "failed to acquire",
    "no connection to the server",
    "sqlstate 57p",
    "sqlstate 08",
)


def is_duplicate_key(exc: BaseException) -> bool:
    if isinstance(exc, DuplicateKeyError):
        return True
    return isinstance(exc, OperationFailure) and (exc.code == 11000 or "duplicate key" in str(exc))


def _postgres_down(code: Any, message: str) -> bool:
    if code not in (INTERNAL_ERROR, None, 0) or "duplicate key" in message.lower():
        return False
    text = message.lower()
    return any(marker in text for marker in POSTGRES_DOWN)


def _write_errors(exc: BulkWriteError) -> Iterable[dict[str, Any]]:
    details = exc.details or {}
    yield from details.get("writeErrors") or []
    concern = details.get("writeConcernErrors") or []
    yield from concern


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` says the store cannot be reached right now (see the module docstring)."""
    if isinstance(exc, ConnectionFailure):
        return True
    if not isinstance(exc, PyMongoError):
        return False
    if exc.has_error_label("RetryableWriteError") or exc.has_error_label("TransientTransactionError"):
        return True
    if isinstance(exc, BulkWriteError):
        return any(
            e.get("code") in TRANSIENT_CODES or _postgres_down(e.get("code"), str(e.get("errmsg", "")))
            for e in _write_errors(exc)
        )
    if isinstance(exc, OperationFailure):
        if is_duplicate_key(exc):
            return False
        return exc.code in TRANSIENT_CODES or _postgres_down(exc.code, str(exc))
    return False


async def upsert_retrying(operation: Callable[[], Awaitable[T]], attempts: int = 3) -> T:
    for attempt in range(attempts):
        try:
            return await operation()
        except OperationFailure as exc:
            if not is_duplicate_key(exc) or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def retry_transient(
    attempts: int = 40,
    max_wait: float = 4.0,
    budget_s: float = 60.0,
    initial: float = 0.1,
    give_up: Callable[[PyMongoError], Exception] | None = None,
) -> Callable[[C], C]:
    """Class decorator: every public ``async def`` of a repository retries transient errors
    (``is_transient``) with exponential backoff and jitter — at most ``attempts`` times and
    ``budget_s`` seconds — before the error reaches the service layer. Safe because every write
    here is designed to be repeated. ``give_up`` turns a transient error that persisted into
    the caller's own error (the planner's ``StoreUnavailable``); otherwise it is re-raised."""

    def wrap(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(method)
        async def retrying(*args: Any, **kwargs: Any) -> Any:
            try:
                async for attempt in AsyncRetrying(
                    stop=stop_after_attempt(attempts) | stop_after_delay(budget_s),
                    wait=wait_exponential_jitter(initial=initial, max=max_wait),
                    retry=retry_if_exception(is_transient),
                    reraise=True,
                ):
                    with attempt:
                        return await method(*args, **kwargs)
            except PyMongoError as exc:
                if give_up is not None and is_transient(exc):
                    raise give_up(exc) from exc
                raise
            raise AssertionError("unreachable")

        return retrying

    def decorate(cls: C) -> C:
        for name, member in list(vars(cls).items()):
            if not name.startswith("_") and inspect.iscoroutinefunction(member):
                setattr(cls, name, wrap(member))
        return cls

    return decorate
