"""The MongoDB helpers: transient errors are retried, others are not; duplicate keys are
recognised in both MongoDB's and FerretDB's forms."""

from __future__ import annotations

import pytest
from pymongo.errors import AutoReconnect, DuplicateKeyError, OperationFailure

from headwater.edge.mongo import is_duplicate_key, retry_transient


@retry_transient(attempts=3, max_wait=0.001)
class Flaky:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls = 0

    async def read(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


async def test_transient_errors_are_retried_until_success() -> None:
    repo = Flaky([AutoReconnect("primary stepped down"), AutoReconnect("again")])
    assert await repo.read() == "ok" and repo.calls == 3


async def test_retries_stop_after_the_last_attempt() -> None:
    repo = Flaky([AutoReconnect("1"), AutoReconnect("2"), AutoReconnect("3"), AutoReconnect("4")])
    with pytest.raises(AutoReconnect):
        await repo.read()
    assert repo.calls == 3


async def test_other_errors_are_not_retried() -> None:
    repo = Flaky([OperationFailure("bad query", code=2)])
    with pytest.raises(OperationFailure):
        await repo.read()
    assert repo.calls == 1


def test_duplicate_key_in_both_forms() -> None:
    assert is_duplicate_key(DuplicateKeyError("E11000", code=11000))
    assert is_duplicate_key(OperationFailure('duplicate key value violates unique constraint "x"', code=1))
    assert not is_duplicate_key(OperationFailure("other", code=1))
