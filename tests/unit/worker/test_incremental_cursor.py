"""``ingestion.incremental``: the worker reports the highest cursor of the records a document stored."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from worker_support import App, doc  # type: ignore[import-not-found]

from headwater.config import SourceConfig
from headwater.contracts.messages import RawDocument, TaskStatus
from worker.domain.cursor import CursorMax


def config(initial_value: Any = "2026-01-01T00:00:00Z", path: str = "meta.updated_at") -> SourceConfig:
    return SourceConfig.model_validate(
        {
            "source_id": "prices",
            "ingestion": {
                "schedule": "@hourly",
                "request": {"base_url": "https://api.example.com/orders"},
                "incremental": {"cursor_path": path, "param": "since", "initial_value": initial_value},
            },
            "parse": {"format": "json", "records_path": "orders"},
            "validate": {"fields": {"total": {"type": "number", "min": 0}}},
            "store": {"key": ["id"]},
        }
    )


def orders(*rows: dict[str, Any]) -> str:
    return json.dumps({"orders": list(rows)})


def jdoc(body: str, **fields: Any) -> RawDocument:
    return doc(body, **fields).model_copy(update={"content_type": "application/json"})


def test_datetimes_are_compared_as_datetimes_whatever_their_text() -> None:
    highest = CursorMax("updated_at", "datetime")
    highest.add(
        [
            {"updated_at": "2026-03-01T10:00:00Z"},
            {"updated_at": "2026-03-01T12:30:00+02:00"},  # 10:30 UTC: the highest
            {"updated_at": "2026-03-01T10:15:00"},  # naive: UTC
            {"updated_at": date(2026, 3, 1)},
            {"updated_at": datetime(2026, 2, 1, tzinfo=UTC)},
        ]
    )
    assert highest.value == "2026-03-01T10:30:00Z"


def test_missing_and_unreadable_values_are_skipped() -> None:
    highest = CursorMax("meta.updated_at", "datetime")
    highest.add([{}, {"meta": None}, {"meta": {"updated_at": None}}, {"meta": {"updated_at": "soon"}}])
    assert highest.value is None
    highest.add([{"meta": {"updated_at": 1_700_000_000}}, {"meta": {"updated_at": "2026-01-05T00:00:00.250Z"}}])
    assert highest.value == "2026-01-05T00:00:00.250000Z"  # a number is no datetime


def test_numbers_are_compared_as_numbers_across_batches() -> None:
    highest = CursorMax("version", "number")
    highest.add([{"version": 9}, {"version": "10"}, {"version": True}, {"version": "abc"}, {"version": None}])
    highest.add([{"version": 9.5}, {"version": float("nan")}, {"version": "2026-01-01T00:00:00Z"}])
    assert highest.value == 10  # "10" is read as a number (not text, where "9" > "10")


async def test_a_stored_document_reports_the_highest_cursor_of_its_accepted_records() -> None:
    app = App(config())
    body = orders(
        {"id": 1, "total": 5, "meta": {"updated_at": "2026-03-01T10:00:00Z"}},
        {"id": 2, "total": -1, "meta": {"updated_at": "2026-03-09T00:00:00Z"}},  # rejected: not counted
        {"id": 3, "total": 7, "meta": {"updated_at": "2026-03-02T08:00:00+01:00"}},
        {"id": 4, "total": 1},  # no cursor value: stored all the same
    )
    await app.c.processor.handle(jdoc(body))

    [result] = app.results.results
    assert result.status is TaskStatus.PARTIAL and result.cursor == "2026-03-02T07:00:00Z"


async def test_a_numeric_cursor_travels_as_a_number() -> None:
    app = App(config(initial_value=0, path="seq"))
    await app.c.processor.handle(jdoc(orders({"id": 1, "seq": 41}, {"id": 2, "seq": 42})))
    assert app.results.results[-1].cursor == 42


async def test_duplicate_and_failed_documents_and_other_sources_report_no_cursor() -> None:
    app = App(config())
    body = orders({"id": 1, "total": 5, "meta": {"updated_at": "2026-03-01T10:00:00Z"}})
    await app.c.processor.handle(jdoc(body))
    await app.c.processor.handle(jdoc(body, task="prices:t2"))
    await app.c.processor.handle(jdoc("{not json", key="page-2"))

    statuses = [(r.status, r.cursor) for r in app.results.results]
    assert statuses == [
        (TaskStatus.SUCCEEDED, "2026-03-01T10:00:00Z"),
        (TaskStatus.DUPLICATE, None),
        (TaskStatus.FAILED, None),
    ]
    plain = App(config().model_copy(update={"ingestion": config().ingestion.model_copy(update={"incremental": None})}))
    await plain.c.processor.handle(jdoc(body))
    assert plain.results.results[-1].cursor is None
