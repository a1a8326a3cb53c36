"""Transient means transient: the errors FerretDB and pymongo raise while the store is
unavailable are retried, a wrong request (a duplicate key, any other error) is not.

The FerretDB texts are those FerretDB 2.5 answered with PostgreSQL stopped behind it
(captured on a local stack: ``find``, ``insert``, ``update`` and a bulk write all say the same)."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.errors import (
    AutoReconnect,
    BulkWriteError,
    DuplicateKeyError,
    NetworkTimeout,
    NotPrimaryError,
    OperationFailure,
    ServerSelectionTimeoutError,
    WaitQueueTimeoutError,
)

from headwater.edge.mongo import is_transient, retry_transient

REFUSED = (
    "[msg_insert.go:55 handler.(*Handler).msgInsert] [pool.go:97 documentdb.(*Pool).WithConn] "
    "[pool.go:86 documentdb.(*Pool).Acquire] failed to connect to `user=headwater database=postgres`:\n"
    "\t127.0.0.1:7233 (127.0.0.1): dial error: dial tcp 127.0.0.1:7233: connect: connection refused\n"
    "\t127.0.0.1:7233 (127.0.0.1): dial error: dial tcp 127.0.0.1:7233: connect: connection refused"
)
SHUTTING_DOWN = (
    "[msg_find.go:42 handler.(*Handler).msgFind] [pool_cursors.go:127 documentdb.(*Pool).Find] "
    "FATAL: the database system is shutting down (SQLSTATE 57P03)"
)
DUPLICATE = 'ERROR: duplicate key value violates unique constraint "documents_12_pkey" (SQLSTATE 23505)'


def ferretdb(errmsg: str, code: int = 1, name: str = "InternalError") -> OperationFailure:
    """What pymongo raises for a FerretDB error document."""
    return OperationFailure(errmsg, code=code, details={"ok": 0.0, "errmsg": errmsg, "code": code, "codeName": name})


def bulk_error(errmsg: str, code: int) -> BulkWriteError:
    return BulkWriteError(
        {
            "writeErrors": [{"index": 0, "code": code, "errmsg": errmsg}],
            "writeConcernErrors": [],
            "nInserted": 0,
            "nMatched": 0,
        }
    )


@pytest.mark.parametrize(
    "exc",
    [
        ferretdb(REFUSED),
        ferretdb(SHUTTING_DOWN),
        ferretdb("[pool.go:86 documentdb.(*Pool).Acquire] unexpected EOF"),
        ferretdb("conn closed"),
        bulk_error(REFUSED, 1),
        AutoReconnect("connection closed"),
        NetworkTimeout("timed out"),
        ServerSelectionTimeoutError("127.0.0.1:27017: [Errno 111] Connection refused"),
        WaitQueueTimeoutError("pool full"),
        NotPrimaryError("not primary", {"code": 10107, "errmsg": "not primary"}),
        OperationFailure("interrupted at shutdown", code=11600),
    ],
    ids=lambda e: type(e).__name__,
)
def test_store_unavailable_is_transient(exc: Exception) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        DuplicateKeyError("E11000 duplicate key error", code=11000),
        ferretdb(DUPLICATE),
        ferretdb("Duplicate key violation on the requested collection: Index '_id_'", code=11000, name="DuplicateKey"),
        bulk_error("Duplicate key violation on the requested collection: Index '_id_'", 11000),
        ferretdb("invalid $set: unknown operator"),  # an InternalError that is no outage
        ferretdb("connection refused", code=2, name="BadValue"),  # the marker, but a wrong request
        OperationFailure("bad query", code=2),
        ValueError("connection refused"),
    ],
    ids=lambda e: f"{type(e).__name__}:{str(e)[:20]}",
)
def test_wrong_requests_are_not_transient(exc: Exception) -> None:
    assert not is_transient(exc)


@retry_transient(attempts=5, max_wait=0.001, budget_s=5.0)
class Flaky:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls = 0

    async def write(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "written"


async def test_a_ferretdb_outage_is_retried_inside_the_adapter() -> None:
    repo = Flaky([ferretdb(REFUSED), ferretdb(SHUTTING_DOWN), AutoReconnect("reset")])
    assert await repo.write() == "written" and repo.calls == 4


async def test_a_duplicate_key_reaches_the_caller_at_once() -> None:
    repo = Flaky([ferretdb(DUPLICATE)])
    with pytest.raises(OperationFailure):
        await repo.write()
    assert repo.calls == 1


async def test_an_outage_longer_than_the_budget_reaches_the_caller() -> None:
    failures: list[Any] = [ferretdb(REFUSED) for _ in range(10)]
    repo = Flaky(failures)
    with pytest.raises(OperationFailure):
        await repo.write()
    assert repo.calls == 5  # attempts exhausted; the subscription answers RETRY
