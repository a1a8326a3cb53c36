"""``store.valid_from_path``: versions valid from the record's own time; a late (older) record
goes into the history at its place and never becomes current."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from worker_support import CONFIG, App, doc  # type: ignore[import-not-found]

from headwater.config import SourceConfig
from headwater.contracts.messages import TaskStatus
from worker.domain.history import place_late
from worker.domain.records import effective_time, record_content_hash
from worker.domain.scd2 import Incoming, RecordVersion
from worker.service_layer.outcomes import Processed

D1, D2, D3 = (datetime(2026, 1, d, tzinfo=UTC) for d in (1, 10, 20))


def dated_config() -> SourceConfig:
    data = CONFIG.model_dump(by_alias=True, exclude_none=True)
    data["store"] = {"key": ["sku"], "history": "scd2", "valid_from_path": "effective"}
    data["map"]["standard_fields"] = ["sku", "price", "effective"]
    data["validate"]["fields"]["effective"] = {"type": "date", "required": True}
    return SourceConfig.model_validate(data)


def csv(price: str, day: datetime) -> str:
    return f"Product Code,Price,Effective\nX,{price},{day.date().isoformat()}\n"


async def send(app: App, content: str, window: int) -> Processed:
    app.clock.tick()
    task = (
        f"prices:2026-01-{window:02d}T00:00:00+00:00/2026-01-{window + 1:02d}T00:00:00+00:00"  # one stream per window
    )
    out = await app.c.processor.handle(doc(content, task=task, fetched_at=app.clock.now()))
    assert isinstance(out, Processed)
    return out


def chain(app: App) -> list[tuple[float, datetime, datetime | None, bool]]:
    versions = sorted(
        [*(v for v in app.records.versions.values()), app.records.rows["prices:X"]],
        key=lambda v: (v.valid_from, v.version),
    )
    return [(v.data["price"], v.valid_from, v.valid_to, v.is_current) for v in versions]


async def test_a_backfilled_older_version_goes_into_the_history_at_its_place() -> None:
    app = App(dated_config())
    await send(app, csv("1.0", D1), 1)
    await send(app, csv("3.0", D3), 3)
    late = await send(app, csv("2.0", D2), 2)  # the middle window arrives last

    assert late.counts["records_backdated"] == 1 and late.counts["records_updated"] == 0
    assert chain(app) == [(1.0, D1, D2, False), (2.0, D2, D3, False), (3.0, D3, None, True)]
    again = await send(app, csv("2.0", D2).replace("\n", "\r\n"), 2)  # same rows, other bytes: nothing new
    assert again.counts["records_backdated"] == 0 and len(chain(app)) == 3


async def test_the_records_own_time_is_part_of_its_content() -> None:
    app = App(dated_config())
    await send(app, csv("1.0", D1), 1)
    await send(app, csv("3.0", D3), 3)
    await send(app, csv("3.0", D2), 2)  # the same price said for D2 is another state than for D3
    assert [(c[0], c[1]) for c in chain(app)] == [(1.0, D1), (3.0, D2), (3.0, D3)]


async def test_a_row_without_a_readable_time_is_rejected() -> None:
    app = App(dated_config())
    out = await send(app, "Product Code,Price,Effective\nX,1.0,\n", 1)
    assert out.status is TaskStatus.PARTIAL and "prices:X" not in app.records.rows


def test_effective_time_reads_dates_datetimes_and_iso_text() -> None:
    assert effective_time({"a": {"b": "2026-01-02"}}, "a.b") == datetime(2026, 1, 2, tzinfo=UTC)
    assert effective_time({"t": "2026-01-02T03:04:05Z"}, "t") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert effective_time({"t": date(2026, 1, 2)}, "t") == datetime(2026, 1, 2, tzinfo=UTC)
    cet = datetime.fromisoformat("2026-01-02T03:04:05+01:00")
    assert effective_time({"t": cet}, "t") == cet
    for bad, reason in (({}, "missing"), ({"t": "soon"}, "not an ISO-8601"), ({"t": 5}, "not a date")):
        with pytest.raises(ValueError, match=reason):
            effective_time(bad, "t")


def version(n: int, price: float, start: datetime, end: datetime | None) -> RecordVersion:
    data = {"price": price}
    return RecordVersion("s", "X", n, record_content_hash(data), data, start, end, end is None, seq=n)


def test_place_late_in_the_middle_before_the_first_and_equal_to_the_neighbours() -> None:
    v1, v2 = version(1, 1.0, D1, D3), version(2, 3.0, D3, None)
    middle = place_late([v1, v2], v2, Incoming({"price": 2.0}, D2), "d", D3)
    assert middle is not None and middle.insert is not None and middle.expected_seq == 2
    assert (middle.insert.version, middle.insert.valid_from, middle.insert.valid_to) == (3, D2, D3)
    assert [(r.version, r.bound, r.old, r.new) for r in middle.retimes] == [(1, "valid_to", D3, D2)]

    first = place_late([v1, v2], v2, Incoming({"price": 0.5}, D1 - timedelta(days=1)), "d", D3)
    assert first is not None and first.insert is not None and first.insert.valid_to == D1 and first.retimes == []

    assert place_late([v1, v2], v2, Incoming({"price": 1.0}, D2), "d", D3) is None  # already what D2 says
    back = place_late([v1, v2], v2, Incoming({"price": 3.0}, D2), "d", D3)
    assert back is not None and back.insert is None
    assert [(r.version, r.current, r.bound, r.new) for r in back.retimes] == [
        (2, True, "valid_from", D2),
        (1, False, "valid_to", D2),
    ]
