"""Property-based: whatever the sequence of snapshots — reverts, deletions, duplicate
deliveries, out-of-order arrivals — the current records equal the latest snapshot and each key's
history is the sequence of its distinct consecutive states. On the worker's storage with fakes."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from worker_support import CONFIG, App, doc  # type: ignore[import-not-found]

from headwater.config import SourceConfig
from worker.domain.history import timeline
from worker.domain.scd2 import RecordVersion

T0 = datetime(2026, 2, 1, tzinfo=UTC)
KEYS = ("a", "b", "c")
GONE = "gone"
PROPERTY = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

Snapshot = dict[str, int]
snapshots = st.lists(st.dictionaries(st.sampled_from(KEYS), st.integers(1, 3), min_size=1), min_size=1, max_size=6)


def config(**store: Any) -> SourceConfig:
    data = CONFIG.model_dump(by_alias=True, exclude_none=True)
    data["store"] = {"key": ["sku"], "history": "scd2", **store}
    data["map"]["standard_fields"] = ["sku", "price", "effective"]
    data["validate"] = {"fields": {"price": {"type": "integer"}, "effective": {"type": "date"}}}
    return SourceConfig.model_validate(data)


def csv(snapshot: Snapshot) -> str:
    return "Product Code,Price\n" + "".join(f"{k},{v}\n" for k, v in sorted(snapshot.items()))


def states(versions: list[RecordVersion]) -> list[int | str]:
    return [GONE if v.deleted else v.data["price"] for v in versions]


def distinct_consecutive(values: list[int | str]) -> list[int | str]:
    out: list[int | str] = []
    for value in values:
        if value != (out[-1] if out else GONE):  # a key's history starts when it first exists
            out.append(value)
    return out


def chained(versions: list[RecordVersion]) -> bool:
    """Each version is valid until the next one starts; the last one is open."""
    ends = [v.valid_to for v in versions[:-1]]
    return ends == [v.valid_from for v in versions[1:]] and versions[-1].valid_to is None


async def deliver_snapshots(sequence: list[Snapshot], order: list[int]) -> tuple[App, list[int]]:
    """Upload ``sequence[i]`` (fetched at minute i) in ``order``; which ones were applied, in turn."""
    app = App(config(mode="snapshot"))
    applied: list[int] = []
    newest, head = -1, None
    for step, i in enumerate(order):
        app.clock.current = T0 + timedelta(hours=1, seconds=step)
        content = csv(sequence[i])
        digest = hashlib.sha256(content.encode()).hexdigest()[:16]
        message = doc(content, task=f"prices:upload-{digest}", key="upload/p.csv", fetched_at=T0 + timedelta(minutes=i))
        await app.c.processor.handle(message)
        if content == head:  # the model: the same content again is a duplicate, the latest fetch still counts
            newest = max(newest, i)
        elif i >= newest:  # new content fetched no earlier than the stream's latest is applied
            applied.append(i)
            newest, head = i, content
    return app, applied


@PROPERTY
@given(data=st.data(), sequence=snapshots)
def test_current_is_the_latest_snapshot_and_history_its_distinct_states(data: st.DataObject, sequence: Any) -> None:
    order = data.draw(st.lists(st.integers(0, len(sequence) - 1), min_size=1, max_size=10), label="arrivals")
    app, applied = asyncio.run(deliver_snapshots(sequence, order))

    latest = sequence[max(order)]
    assert {k: r.data["price"] for k, r in app.records.live().items()} == latest
    for key in KEYS:
        versions = timeline(asyncio.run(app.records.history("prices", key)))
        expected = distinct_consecutive([sequence[i].get(key, GONE) for i in applied])
        assert states(versions) == expected, (key, applied)
        if versions:
            assert chained(versions) and [v.version for v in versions] == list(range(1, len(versions) + 1))


async def deliver_dated(prices: list[int], order: list[int]) -> App:
    """Key ``a`` priced ``prices[i]`` from day i + 1, each day its own window, arriving in ``order``."""
    app = App(config(valid_from_path="effective"))
    for step, i in enumerate(order):
        app.clock.current = T0 + timedelta(seconds=step)
        day = f"2026-01-{i + 1:02d}"
        task = f"prices:{day}T00:00:00+00:00/{day}T23:59:59+00:00"
        content = f"Product Code,Price,Effective\na,{prices[i]},{day}\n"
        await app.c.processor.handle(doc(content, task=task, fetched_at=T0))
    return app


@PROPERTY
@given(data=st.data(), prices=st.lists(st.integers(1, 3), min_size=1, max_size=6))
def test_late_versions_take_their_place_in_time(data: st.DataObject, prices: list[int]) -> None:
    order = data.draw(st.lists(st.integers(0, len(prices) - 1), min_size=1, max_size=10), label="arrivals")
    app = asyncio.run(deliver_dated(prices, order))

    days = sorted(set(order))
    assert app.records.live()["a"].data["effective"] == f"2026-01-{days[-1] + 1:02d}"
    versions = timeline(asyncio.run(app.records.history("prices", "a")))
    assert [(v.data["effective"], v.data["price"]) for v in versions] == [
        (f"2026-01-{d + 1:02d}", prices[d]) for d in days
    ]
    assert chained(versions)
    assert [v.valid_from for v in versions] == [datetime(2026, 1, d + 1, tzinfo=UTC) for d in days]
