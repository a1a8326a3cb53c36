"""Snapshot mode on the in-memory fakes: keys a complete snapshot no longer holds are closed as
deleted, announced, undone by a rollback; partial snapshots delete nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from worker_support import CONFIG, App, doc  # type: ignore[import-not-found]

from headwater.config import SourceConfig
from headwater.contracts.messages import RawDocument, TaskStatus
from worker.service_layer.outcomes import Processed

T0 = datetime(2026, 2, 1, tzinfo=UTC)
HEADER = "Product Code,Name,Price\n"
XYZ = HEADER + "X,Bolt,1.50\nY,Nut,0.20\nZ,Pin,3\n"
XY = HEADER + "X,Bolt,1.50\nY,Nut,0.20\n"


def snapshot_config(**ingestion: Any) -> SourceConfig:
    data = CONFIG.model_dump(by_alias=True, exclude_none=True)
    data["store"] = {"key": ["sku"], "history": "scd2", "mode": "snapshot"}
    if ingestion:
        data["ingestion"] = ingestion
    return SourceConfig.model_validate(data)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


async def handle(app: App, message: RawDocument) -> Processed:
    app.clock.current = message.fetched_at + timedelta(seconds=10)
    out = await app.c.processor.handle(message)
    assert isinstance(out, Processed), out
    return out


def uploaded(content: str, minutes: int) -> RawDocument:
    return doc(content, task=f"prices:upload-{minutes:016d}", key="upload/p.csv", fetched_at=at(minutes))


def live(app: App) -> list[str]:
    return sorted(app.records.live())


async def test_a_key_missing_from_the_next_upload_is_closed_announced_and_rolled_back() -> None:
    app = App(snapshot_config())
    await handle(app, uploaded(XYZ, 1))
    second = await handle(app, uploaded(XY, 2))

    assert live(app) == ["X", "Y"] and second.counts["records_deleted"] == 1
    z = app.records.rows["prices:Z"]
    assert (z.deleted, z.is_current, z.version, z.valid_from) == (True, False, 2, at(2) + timedelta(seconds=10))
    closed = app.records.versions["prices:Z:v1"]
    assert (closed.valid_to, closed.is_current, closed.data["price"]) == (at(2) + timedelta(seconds=10), False, 3)
    changed = [e for e in app.events.events if e.type == "records.changed"]  # type: ignore[attr-defined]
    assert changed[-1].deleted == ["Z"] and changed[-1].dataset_version == second.document_id  # type: ignore[attr-defined]

    result = await app.c.rollback.rollback(second.document_id)
    assert (result.restored, result.removed) == (1, 0) and live(app) == ["X", "Y", "Z"]
    assert app.records.rows["prices:Z"].version == 3 and app.records.rows["prices:Z"].data["price"] == 3


async def test_a_deleted_key_that_comes_back_is_created_again() -> None:
    app = App(snapshot_config())
    for minutes, content in ((1, XYZ), (2, XY), (3, XYZ)):
        await handle(app, uploaded(content, minutes))

    assert live(app) == ["X", "Y", "Z"]
    z = await app.c.views.record_history("prices", "Z")
    assert [(v.version, v.deleted) for v in z] == [(1, False), (2, True), (3, False)]
    changed = [e for e in app.events.events if e.type == "records.changed"]  # type: ignore[attr-defined]
    assert changed[-1].created == ["Z"]  # type: ignore[attr-defined]


async def test_incremental_mode_never_deletes() -> None:
    app = App()
    await handle(app, uploaded(XYZ, 1))
    await handle(app, uploaded(XY, 2))
    assert live(app) == ["X", "Y", "Z"]


async def test_a_rejected_row_keeps_its_key_and_an_unkeyed_one_stops_deletion() -> None:
    app = App(snapshot_config())
    await handle(app, uploaded(XYZ, 1))
    bad_price = await handle(app, uploaded(HEADER + "X,Bolt,1.50\nZ,Pin,oops\n", 2))
    assert bad_price.status is TaskStatus.PARTIAL and live(app) == ["X", "Z"]  # Y deleted, Z kept as it was
    await handle(app, uploaded(HEADER + "X,Bolt,1.60\n,Nut,0.20\n", 3))  # a row without its key
    assert live(app) == ["X", "Z"]  # nothing deleted: the snapshot's keys are not all known


def pages(task: str, contents: list[str], minutes: int, complete: bool | None) -> list[RawDocument]:
    """A paginated fetch as collection-model publishes it; the last page says how it went."""
    out = []
    for n, content in enumerate(contents, start=1):
        last = n == len(contents)
        out.append(
            doc(
                content,
                task=task,
                key=f"page-{n}",
                fetched_at=at(minutes),
                run_id=f"run-{minutes}",
                documents_in_task=len(contents) if last and complete is not None else None,
                snapshot_complete=complete if last else None,
            )
        )
    return out


PAGED = {"mode": "scheduled_pull", "schedule": "@daily", "request": {"base_url": "https://x.example/"}}
PAGED["request"]["pagination"] = {"type": "page_number"}  # type: ignore[index]


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 0, 1), (1, 2, 0)])
async def test_a_complete_paginated_snapshot_deletes_whatever_order_its_pages_arrive(order: tuple[int, ...]) -> None:
    app = App(snapshot_config(**PAGED))
    for message in pages("prices:tick-1", [XY, HEADER + "Z,Pin,3\n", HEADER + "W,Cap,1\n"], 1, True):
        await handle(app, message)
    second = pages("prices:tick-2", [XY, HEADER + "W,Cap,1\n", HEADER + "V,Rod,2\n"], 2, True)
    outs = [await handle(app, second[i]) for i in order]

    assert live(app) == ["V", "W", "X", "Y"]
    assert TaskStatus.DUPLICATE in [o.status for o in outs]  # page 1 did not change: not parsed again
    sweep = app.datasets.versions["prices:tick-2:run-2:sweep"]
    assert sweep.counts == {"records_deleted": 1}
    await app.c.rollback.rollback(sweep.version_id)
    assert live(app) == ["V", "W", "X", "Y", "Z"]


@pytest.mark.parametrize("complete", [False, None])
async def test_a_partial_or_unknown_snapshot_deletes_nothing(complete: bool | None) -> None:
    app = App(snapshot_config(**PAGED))
    for message in pages("prices:tick-1", [XYZ, HEADER + "W,Cap,1\n"], 1, True):
        await handle(app, message)
    for message in pages("prices:tick-2", [XY], 2, complete):
        await handle(app, message)
    assert live(app) == ["W", "X", "Y", "Z"]


async def test_a_snapshot_does_not_delete_what_a_newer_document_wrote() -> None:
    app = App(snapshot_config(**PAGED))
    first = pages("prices:tick-1", [XY, HEADER + "Z,Pin,3\n"], 1, True)
    newer = pages("prices:tick-2", [HEADER + "V,Rod,2\n"], 3, None)[0].model_copy(update={"document_key": "page-9"})
    await handle(app, first[0])
    await handle(app, newer)  # a later run's page lands before the first run's last page
    app.clock.current = at(1) + timedelta(minutes=5)
    await app.c.processor.handle(first[1])
    assert live(app) == ["V", "X", "Y", "Z"]


def test_snapshot_mode_and_windows_do_not_go_together() -> None:
    with pytest.raises(ValueError, match="snapshot mode needs the whole source in each delivery"):
        snapshot_config(
            mode="scheduled_pull",
            schedule="@daily",
            request={"base_url": "https://x.example/"},
            window={"cadence": "1d", "start": "2026-01-01T00:00:00Z", "slice": "1d"},
        )
