from __future__ import annotations

import pytest

from collection_model.domain.iteration import item_identity, item_keys
from collection_model.domain.rate_limit import TokenBucket


def test_concurrent_takers_queue_behind_each_other() -> None:
    bucket = TokenBucket(rate=2)
    assert [bucket.delay(0.0) for _ in range(5)] == [0.0, 0.0, 0.5, 1.0, 1.5]


def test_tokens_refill_up_to_the_burst() -> None:
    bucket = TokenBucket(rate=1, burst=3)
    assert [bucket.delay(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.delay(100.0) == 0.0 and bucket.tokens == 2  # refilled to 3, not 100
    assert bucket.delay(99.0) == 0.0  # a clock going backwards adds nothing


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0)


def test_item_identity_and_keys() -> None:
    assert item_identity({"id": 7, "name": "x"}, 0) == "7"
    assert item_identity({"name": "a/b"}, 0) == "a%2Fb"
    assert item_identity({"id": None, "id2": 1, "flag": True}, 4) == "4"
    assert item_keys("r", [{"id": "a"}, {"id": "a"}, {}]) == ["r=a", "r=a~1", "r=2"]
