"""service_layer.batches: two batches stored at once only when their keys are disjoint, results
handed on in batch order, and a failure lets the batches in flight finish."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from worker_fake_records import Records  # type: ignore[import-not-found]
from worker_fakes import Datasets, Log  # type: ignore[import-not-found]

from headwater.config import SourceConfig
from worker.domain.parsers import DocumentParseError
from worker.domain.scd2 import CurrentMove, RecordVersion
from worker.service_layer.batches import BatchTarget, StoredBatch, store_batches
from worker.service_layer.extract import Extraction

NOW = datetime(2026, 3, 1, tzinfo=UTC)
CONFIG = SourceConfig.model_validate(
    {"source_id": "prices", "ingestion": {"mode": "push"}, "parse": {"format": "csv"}, "store": {"key": ["sku"]}}
)


class SlowRecords(Records):  # type: ignore[misc]
    """The fake store, with each write taking a moment and the writes in flight counted."""

    def __init__(self) -> None:
        super().__init__()
        self.flying = self.most = 0

    async def set_current(self, moves: list[CurrentMove]) -> int:
        self.flying += 1
        self.most = max(self.most, self.flying)
        await asyncio.sleep(0.02)
        self.flying -= 1
        return int(await super().set_current(moves))


def batch(*rows: tuple[str, int]) -> Extraction:
    out = Extraction(rows=len(rows), records=[(sku, {"sku": sku, "price": p}, i) for i, (sku, p) in enumerate(rows)])
    return out.seal(None)


def broken(batches: list[Extraction]) -> Iterator[Extraction]:
    yield from batches
    raise DocumentParseError("row 9: cannot be parsed")


async def run(records: Records, batches: Iterator[Extraction]) -> list[int]:
    order: list[int] = []

    async def done(stored: StoredBatch) -> None:
        order.append(stored.number)

    target = BatchTarget(records, Log(), change_log(), CONFIG, "prices", "d1", NOW, None)
    await store_batches(batches, target, done, lambda: None)
    return order


def change_log() -> object:  # the change log of one dataset version, in memory
    datasets = Datasets()
    return lambda number, changes: datasets.add_changes("d1", number, changes)


async def test_disjoint_batches_are_stored_two_at_a_time_and_handed_on_in_order() -> None:
    records = SlowRecords()
    order = await run(records, iter([batch(("A", 1)), batch(("B", 1)), batch(("C", 1)), batch(("D", 1))]))
    assert order == [1, 2, 3, 4]
    assert records.most == 2
    assert sorted(records.live()) == ["A", "B", "C", "D"]


async def test_a_key_in_two_batches_waits_for_the_first_so_the_last_row_wins() -> None:
    records = SlowRecords()
    order = await run(records, iter([batch(("A", 1), ("B", 1)), batch(("B", 2)), batch(("B", 3))]))
    assert order == [1, 2, 3] and records.most == 1
    b: RecordVersion = records.live()["B"]
    assert (b.data["price"], b.version) == (3, 3)


async def test_a_parse_error_finishes_the_batches_in_flight_then_is_raised() -> None:
    records = SlowRecords()
    with pytest.raises(DocumentParseError):
        await run(records, broken([batch(("A", 1)), batch(("B", 1))]))
    assert sorted(records.live()) == ["A", "B"]  # earlier batches stored whole, none cut half-way
