"""``ingestion.incremental``: the work item's cursor becomes a query parameter (minus ``lag`` when
it is a stored one), on every page built from the request template."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from cm_fakes import Harness  # type: ignore[import-not-found]
from cm_server import FakeApi, Seen  # type: ignore[import-not-found]

from collection_model.domain.incremental import cursor_params
from headwater.config import IncrementalSpec, SourceConfig
from headwater.contracts.messages import FetchTask, TaskStatus

Start = Callable[..., Awaitable[Harness]]


def spec(initial_value: Any = "2026-01-01T00:00:00Z", lag: Any = None) -> IncrementalSpec:
    return IncrementalSpec.model_validate(
        {"cursor_path": "updated_at", "param": "since", "initial_value": initial_value, "lag": lag}
    )


def orders(pagination: dict[str, Any], lag: Any = "5m") -> SourceConfig:
    return SourceConfig.model_validate(
        {
            "source_id": "orders",
            "ingestion": {
                "schedule": "@hourly",
                "request": {"base_url": "http://api.example.com/orders", "pagination": pagination},
                "retry": {"max_attempts": 1},
                "incremental": spec(lag=lag).model_dump(mode="json"),
            },
            "parse": {"format": "json", "records_path": "orders"},
            "store": {"key": ["id"]},
        }
    )


def work(cursor: Any, stored: bool) -> FetchTask:
    return FetchTask(
        source_id="orders",
        config_version=1,
        task_id="orders:tick",
        run_id="r1",
        cursor=cursor,
        cursor_stored=stored,
    )


# the rule


def test_a_stored_datetime_cursor_goes_out_minus_lag_in_utc_with_z() -> None:
    assert cursor_params(spec(lag="5m"), "2026-03-01T10:00:00Z", True) == {"since": "2026-03-01T09:55:00Z"}
    assert cursor_params(spec(lag="1h30m"), "2026-03-01T10:00:00.250000Z", True) == {
        "since": "2026-03-01T08:30:00.250000Z"
    }
    assert cursor_params(spec(), "2026-03-01T12:00:00+02:00", True) == {"since": "2026-03-01T10:00:00Z"}  # no lag


def test_the_initial_value_goes_out_as_it_is() -> None:
    assert cursor_params(spec(lag="5m"), "2026-01-01T00:00:00Z", False) == {"since": "2026-01-01T00:00:00Z"}
    assert cursor_params(spec(lag="5m"), None, True) == {"since": "2026-01-01T00:00:00Z"}  # no cursor on the item
    assert cursor_params(spec(initial_value=100, lag=10), None, False) == {"since": "100"}


def test_a_numeric_cursor_goes_out_minus_a_numeric_lag() -> None:
    assert cursor_params(spec(initial_value=0, lag=10), 250, True) == {"since": "240"}
    assert cursor_params(spec(initial_value=0, lag=0.5), 250, True) == {"since": "249.5"}


def test_a_cursor_of_another_kind_cannot_be_processed() -> None:
    with pytest.raises(ValueError, match="is not a datetime"):
        cursor_params(spec(), 41, True)
    with pytest.raises(ValueError, match="is not a number"):
        cursor_params(spec(initial_value=0), "2026-03-01T10:00:00Z", True)


# through the work handler


def numbered(seen: Seen) -> web.Response:
    page = int(seen.query.get("page", "1"))
    return web.json_response({"orders": [{"id": page}] if page <= 2 else []})


async def test_every_page_of_a_numbered_walk_carries_the_cursor_minus_lag(harness: Start) -> None:
    api = FakeApi({"/orders": numbered})
    config = orders({"type": "page_number", "records_path": "orders"})
    h = await harness(api, configs=(config,))
    result = await h.container.work.handle(work("2026-03-01T10:00:00Z", True))

    assert result.status is TaskStatus.SUCCEEDED and result.counts["documents"] == 3
    assert [(r.query.get("page"), r.query["since"]) for r in api.requests] == [
        ("1", "2026-03-01T09:55:00Z"),
        ("2", "2026-03-01T09:55:00Z"),
        ("3", "2026-03-01T09:55:00Z"),
    ]


async def test_a_next_url_from_the_api_is_followed_as_given(harness: Start) -> None:
    def linked(seen: Seen) -> web.Response:
        if seen.query.get("after") == "a1":
            return web.json_response({"orders": [{"id": 2}], "next": None})
        return web.json_response({"orders": [{"id": 1}], "next": "http://api.example.com/orders?after=a1"})

    api = FakeApi({"/orders": linked})
    config = orders({"type": "next_url", "next_url_path": "next", "records_path": "orders"})
    h = await harness(api, configs=(config,))
    await h.container.work.handle(work("2026-01-01T00:00:00Z", False))

    assert [dict(r.query) for r in api.requests] == [{"since": "2026-01-01T00:00:00Z"}, {"after": "a1"}]


async def test_a_source_without_incremental_sends_no_cursor(harness: Start) -> None:
    plain = orders({"type": "none"}).model_dump(mode="json", by_alias=True)
    plain["ingestion"]["incremental"] = None
    api = FakeApi({"/orders": numbered})
    h = await harness(api, configs=(SourceConfig.model_validate(plain),))
    await h.container.work.handle(work("2026-03-01T10:00:00Z", True))
    assert [dict(r.query) for r in api.requests] == [{}]
