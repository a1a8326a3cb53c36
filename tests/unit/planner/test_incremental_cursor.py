"""``ingestion.incremental`` in the planner: work items carry the cursor (or the initial value);
a complete task advances it to the highest its documents reported, never backwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from planner_fakes import Fakes, FixedClock, build_planner, settings  # type: ignore[import-not-found]

from headwater.config import SourceConfig
from headwater.contracts.messages import TaskResult, TaskStatus
from planner.adapters.mongo_codec import cursor_doc, cursor_from_doc
from planner.bootstrap import Container
from planner.domain.cursor import FetchStart, fetch_start, highest, is_newer, may_advance, stored_cursor
from planner.domain.sources import StoredSource
from planner.entrypoints.app import create_app

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def source(initial_value: Any = "2026-01-01T00:00:00Z", **extra: Any) -> StoredSource:
    incremental = {"cursor_path": "updated_at", "param": "since", "initial_value": initial_value, **extra}
    config = SourceConfig.model_validate(
        {
            "source_id": "orders",
            "ingestion": {
                "schedule": "@every 1h",
                "request": {"base_url": "https://api.example.com/orders"},
                "incremental": incremental,
            },
            "parse": {"format": "json"},
            "store": {"key": ["id"]},
        }
    )
    return StoredSource("orders", config, 1, "h", T0, T0)


def make() -> tuple[Container, Fakes]:
    fakes = Fakes(clock=FixedClock(T0))
    return build_planner(fakes), fakes


def fetched(task_id: str, run_id: str, documents: int, status: TaskStatus = TaskStatus.SUCCEEDED) -> TaskResult:
    return TaskResult(
        source_id="orders",
        task_id=task_id,
        run_id=run_id,
        reporter="collection-model",
        status=status,
        counts={"documents": documents},
    )


def stored(task_id: str, run_id: str, key: str, cursor: Any, status: TaskStatus = TaskStatus.SUCCEEDED) -> TaskResult:
    return TaskResult(
        source_id="orders",
        task_id=task_id,
        run_id=run_id,
        reporter="worker",
        status=status,
        document_key=key,
        cursor=cursor,
    )


async def plan(c: Container, fakes: Fakes, s: StoredSource) -> tuple[str, str]:
    """Plan a manual run; (task id, run id) of its one work item."""
    result = await c.planning.plan(s, manual=True)
    task = fakes.publisher.published[-1]
    assert task.run_id == result.run_id
    fakes.clock.advance(timedelta(minutes=1))  # the next manual run gets a task id of its own
    return task.task_id, task.run_id


# the domain rules


def test_the_highest_of_a_tasks_cursors_compares_datetimes_as_times_and_numbers_as_numbers() -> None:
    times = ["2026-03-01T10:00:00Z", "2026-03-01T12:30:00+02:00", "2026-03-01T10:15:00", "junk"]
    assert highest(times) == "2026-03-01T10:30:00Z"
    assert highest([9, 10, 9.5, "2026-01-01T00:00:00Z"]) == 10  # the first's kind; 10 > 9.5 > 9
    assert highest([]) is None


def test_a_stored_cursor_has_a_sort_form_of_its_kind() -> None:
    early = stored_cursor("2026-03-01T10:00:00+02:00", T0, "t1")
    assert early is not None and (early.value, early.kind, early.sort) == (
        "2026-03-01T08:00:00Z",
        "datetime",
        "2026-03-01T08:00:00.000000Z",
    )
    late = stored_cursor("2026-03-01T08:00:00.5Z", T0, "t2")
    assert late is not None and late.sort > early.sort  # fixed-width text: text order is time order
    number = stored_cursor(41, T0, "t3")
    assert number is not None and (number.value, number.kind, number.sort) == (41, "number", 41)
    assert stored_cursor("not a time", T0, "t4") is None


def test_only_a_higher_cursor_or_one_of_another_kind_is_newer() -> None:
    ten, nine, day = stored_cursor(10, T0, "a"), stored_cursor(9, T0, "b"), stored_cursor("2026-01-01", T0, "c")
    assert ten and nine and day
    assert is_newer(ten, None) and is_newer(ten, nine) and not is_newer(nine, ten) and not is_newer(ten, ten)
    assert is_newer(day, ten)  # the config changed the kind: the new kind starts over


def test_a_task_counts_when_its_fetch_succeeded_and_no_document_failed() -> None:
    assert may_advance("succeeded", {"page-1": "succeeded", "page-2": "partial", "page-3": "duplicate"})
    assert not may_advance("partial", {"page-1": "succeeded"})  # a page was not fetched
    assert not may_advance("succeeded", {"page-1": "succeeded", "page-2": "failed"})


def test_the_fetch_starts_at_the_stored_cursor_of_the_configs_kind_else_at_initial_value() -> None:
    spec = source().config.ingestion.incremental
    assert spec is not None
    assert fetch_start(spec, None) == FetchStart("2026-01-01T00:00:00Z", False)
    assert fetch_start(spec, stored_cursor("2026-03-01T08:00:00Z", T0, "t")) == FetchStart("2026-03-01T08:00:00Z", True)
    assert fetch_start(spec, stored_cursor(41, T0, "t")) == FetchStart("2026-01-01T00:00:00Z", False)


def test_the_cursor_document_reads_back_equal() -> None:
    cursor = stored_cursor("2026-03-01T08:00:00Z", T0, "orders:manual-x")
    assert cursor is not None
    naive = {**cursor_doc(cursor), "updated_at": T0.replace(tzinfo=None)}  # as MongoDB returns it
    assert cursor_from_doc(naive) == cursor and cursor_from_doc(None) is None


# the service: planning and results


async def test_work_items_carry_the_initial_value_then_the_highest_stored_cursor() -> None:
    c, fakes = make()
    s = source()
    task_id, run_id = await plan(c, fakes, s)
    first = fakes.publisher.published[-1]
    assert (first.cursor, first.cursor_stored) == ("2026-01-01T00:00:00Z", False)

    await c.results.on_result(fetched(task_id, run_id, 2))
    await c.results.on_result(stored(task_id, run_id, "page-1", "2026-02-01T10:00:00Z"))
    assert (await fakes.state.get("orders")).cursor is None  # not before every document is stored
    await c.results.on_result(stored(task_id, run_id, "page-2", "2026-02-03T09:00:00+01:00"))
    cursor = (await fakes.state.get("orders")).cursor
    assert cursor is not None and (cursor.value, cursor.task_id) == ("2026-02-03T08:00:00Z", task_id)

    await plan(c, fakes, s)
    second = fakes.publisher.published[-1]
    assert (second.cursor, second.cursor_stored) == ("2026-02-03T08:00:00Z", True)


async def test_a_late_task_with_an_older_cursor_does_not_move_it_back() -> None:
    c, fakes = make()
    s = source()
    old_task, old_run = await plan(c, fakes, s)
    new_task, new_run = await plan(c, fakes, s)
    for task_id, run_id, cursor in (
        (new_task, new_run, "2026-02-05T00:00:00Z"),
        (old_task, old_run, "2026-02-04T00:00:00Z"),
    ):
        await c.results.on_result(fetched(task_id, run_id, 1))
        await c.results.on_result(stored(task_id, run_id, "page-1", cursor))

    state = await fakes.state.get("orders")
    assert state.cursor is not None and (state.cursor.value, state.cursor.task_id) == ("2026-02-05T00:00:00Z", new_task)


async def test_a_failed_document_or_page_holds_the_cursor_and_rejected_rows_do_not() -> None:
    c, fakes = make()
    s = source(initial_value=0, lag=5)
    failing, run = await plan(c, fakes, s)
    await c.results.on_result(fetched(failing, run, 2))
    await c.results.on_result(stored(failing, run, "page-1", 40))
    await c.results.on_result(stored(failing, run, "page-2", None, TaskStatus.FAILED))
    partial, run = await plan(c, fakes, s)
    await c.results.on_result(fetched(partial, run, 1, TaskStatus.PARTIAL))
    await c.results.on_result(stored(partial, run, "page-1", 50))
    assert (await fakes.state.get("orders")).cursor is None

    rejected, run = await plan(c, fakes, s)
    await c.results.on_result(fetched(rejected, run, 2))
    await c.results.on_result(stored(rejected, run, "page-1", 30, TaskStatus.PARTIAL))
    await c.results.on_result(stored(rejected, run, "page-2", None, TaskStatus.DUPLICATE))
    await c.results.on_result(stored(rejected, run, "page-1", 30, TaskStatus.PARTIAL))  # a redelivery: no-op
    cursor = (await fakes.state.get("orders")).cursor
    assert cursor is not None and cursor.value == 30


async def test_sources_status_shows_the_cursor_and_where_the_next_fetch_starts() -> None:
    c, fakes = make()
    s = source(lag="5m")
    await fakes.sources.save(s)
    app = create_app(settings())
    app.state.container, app.state.tokens = c, c.tokens
    auth = {"authorization": "Bearer test-token"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://planner") as http:
        before = (await http.get("/api/v1/sources/orders/status", headers=auth)).json()["cursor"]
        task_id, run_id = await plan(c, fakes, s)
        await c.results.on_result(fetched(task_id, run_id, 1))
        await c.results.on_result(stored(task_id, run_id, "page-1", "2026-02-01T10:00:00Z"))
        after = (await http.get("/api/v1/sources/orders/status", headers=auth)).json()["cursor"]

    incremental = {"cursor_path": "updated_at", "param": "since", "initial_value": "2026-01-01T00:00:00Z", "lag": "5m"}
    assert before == {
        "value": None,
        "kind": "datetime",
        "updated_at": None,
        "task_id": None,
        "next_start": "2026-01-01T00:00:00Z",
        "next_start_from": "initial_value",
        "incremental": incremental,
    }
    assert after == {
        "value": "2026-02-01T10:00:00Z",
        "kind": "datetime",
        "updated_at": (T0 + timedelta(minutes=1)).isoformat(),  # plan() moved the clock on
        "task_id": task_id,
        "next_start": "2026-02-01T10:00:00Z",
        "next_start_from": "cursor",
        "incremental": incremental,
    }
