"""Freshness-aware dedup through the document processor: A → B → A, late copies, redeliveries,
rollback and sending again — on the in-memory fakes."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from worker_support import App, doc  # type: ignore[import-not-found]

from headwater.contracts.messages import TaskStatus
from worker.bootstrap import build
from worker.service_layer.outcomes import Busy, Processed
from worker.settings import Settings

A = "Product Code,Name,Price\nX,Bolt,1.50\nY,Nut,0.20\n"
B = A.replace("1.50", "1.75")
T0 = datetime(2026, 2, 1, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def upload(content: str, minutes: int, name: str = "prices.csv") -> dict[str, object]:
    """An upload as collection-model publishes it (its task id comes from the content)."""
    return {
        "content": content,
        "task": f"prices:upload-{hashlib.sha256(content.encode()).hexdigest()[:16]}",
        "key": f"upload/{name}",
        "fetched_at": at(minutes),
        "linkage": {"filename": name, "uploaded": True},
    }


async def send(app: App, content: str, minutes: int, **extra: object) -> Processed:
    app.clock.current = at(minutes) + timedelta(seconds=30)
    fields = upload(content, minutes)
    fields.update(extra)
    message = doc(
        fields.pop("content"),
        task=fields.pop("task"),
        key=fields.pop("key"),
        fetched_at=fields.pop("fetched_at"),
        **fields,
    )
    out = await app.c.processor.handle(message)
    assert isinstance(out, Processed)
    return out


def prices(app: App) -> dict[str, float]:
    return {k: r.data["price"] for k, r in app.records.live().items()}


@pytest.fixture
def app() -> App:
    return App()


async def test_a_to_b_to_a_brings_a_back_as_new_versions(app: App) -> None:
    first = await send(app, A, 1)
    second = await send(app, B, 2)
    third = await send(app, A, 3)

    assert [o.status for o in (first, second, third)] == [TaskStatus.SUCCEEDED] * 3
    assert len({first.document_id, second.document_id, third.document_id}) == 3  # one dataset version each
    assert prices(app) == {"X": 1.5, "Y": 0.2}
    x = await app.c.views.record_history("prices", "X")
    assert [(v.version, v.data["price"], v.valid_from, v.valid_to) for v in x] == [
        (1, 1.5, at(1) + timedelta(seconds=30), at(2) + timedelta(seconds=30)),
        (2, 1.75, at(2) + timedelta(seconds=30), at(3) + timedelta(seconds=30)),
        (3, 1.5, at(3) + timedelta(seconds=30), None),
    ]
    assert [v.dataset_version for v in x] == [first.document_id, second.document_id, third.document_id]
    assert app.raw.docs[f"prices:{first.document_id.split(':')[1]}"].duplicates == 0


async def test_identical_consecutive_content_writes_nothing(app: App) -> None:
    await send(app, A, 1)
    writes = app.records.writes
    again = await send(app, A, 2, name="other-name.csv")  # the upload stream: any file name

    assert again.status is TaskStatus.DUPLICATE and app.records.writes == writes
    assert app.events.events[-1].reason == "same_content"  # type: ignore[attr-defined]


async def test_a_redelivered_message_is_absorbed_even_after_newer_content(app: App) -> None:
    await send(app, A, 1)
    await send(app, B, 2)
    late = await send(app, A, 1)  # the first message once more (same fetch time): older than B

    assert late.status is TaskStatus.DUPLICATE and late.counts == {"superseded": 1}
    assert prices(app)["X"] == 1.75
    assert app.events.events[-1].reason == "superseded"  # type: ignore[attr-defined]


async def test_rollback_then_sending_the_same_file_again_processes_it_again(app: App) -> None:
    await send(app, A, 1)
    second = await send(app, B, 2)
    await app.c.rollback.rollback(second.document_id)
    assert prices(app)["X"] == 1.5

    redelivered = await send(app, B, 2)  # the rolled-back message itself: not applied again
    resent = await send(app, B, 5)  # the file sent again after the rollback

    assert redelivered.status is TaskStatus.DUPLICATE
    assert resent.status is TaskStatus.SUCCEEDED and resent.document_id != second.document_id
    assert prices(app)["X"] == 1.75


async def test_rolling_back_a_second_occurrence_keeps_the_first(app: App) -> None:
    first = await send(app, A, 1)
    await send(app, B, 2)
    third = await send(app, A, 3)
    result = await app.c.rollback.rollback(third.document_id)

    assert (result.restored, result.conflicts) == (1, 0) and prices(app)["X"] == 1.75
    assert app.datasets.versions[first.document_id].rolled_back_at is None


async def test_each_page_and_window_is_its_own_stream(app: App) -> None:
    window = "prices:2026-01-01T00:00:00+00:00/2026-01-02T00:00:00+00:00"
    other = "prices:2026-01-02T00:00:00+00:00/2026-01-03T00:00:00+00:00"
    outs = [
        await app.c.processor.handle(doc(A, task=window, key="page-1", fetched_at=at(1))),
        await app.c.processor.handle(doc(A, task=other, key="page-1", fetched_at=at(1))),
        await app.c.processor.handle(doc(A, task=window, key="page-2", fetched_at=at(1))),
        await app.c.processor.handle(doc(A, task=window, key="page-1", fetched_at=at(2))),
    ]
    assert [o.status for o in outs] == [  # type: ignore[union-attr]
        TaskStatus.SUCCEEDED,
        TaskStatus.SUCCEEDED,
        TaskStatus.SUCCEEDED,
        TaskStatus.DUPLICATE,
    ]
    assert sorted(app.heads.heads) == [
        "prices:2026-01-01T00:00:00+00:00/2026-01-02T00:00:00+00:00|page-1",
        "prices:2026-01-01T00:00:00+00:00/2026-01-02T00:00:00+00:00|page-2",
        "prices:2026-01-02T00:00:00+00:00/2026-01-03T00:00:00+00:00|page-1",
    ]


async def test_a_delivery_waits_for_its_stream_then_goes_on() -> None:
    app = App()
    app.c = build(app.adapters(), Settings(stream_wait_s=5))
    slow = app.configs.get

    async def slow_get(source_id: str, version: int):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.3)
        return await slow(source_id, version)

    app.configs.get = slow_get  # type: ignore[method-assign]
    first, second = await asyncio.gather(
        app.c.processor.handle(doc(A, fetched_at=at(1))), app.c.processor.handle(doc(B, fetched_at=at(2)))
    )

    assert not isinstance(first, Busy) and not isinstance(second, Busy)
    assert prices(app)["X"] == 1.75  # applied in fetch order
