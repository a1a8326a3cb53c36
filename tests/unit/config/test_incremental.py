"""``ingestion.incremental``: valid blocks, their normal form, and the one reading of cursor values."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from headwater.config import SourceConfig, config_hash, dump_source_config, parse_source_configs
from headwater.config.incremental import read_cursor, wire_cursor

ROOT = Path(__file__).resolve().parents[3]
ORDERS = """\
source_id: orders-incremental
ingestion:
  mode: scheduled_pull
  schedule: "*/15 * * * *"
  request:
    base_url: https://api.example.com/v1/orders
    pagination: {type: page_number, page_size: 100, size_param: per_page, records_path: orders}
  incremental:
    cursor_path: meta.updated_at     # a field of the mapped record
    param: updated_after             # ?updated_after=<highest stored updated_at minus lag>
    initial_value: 2026-01-01T00:00:00+01:00
    lag: 5m
parse: {format: json, records_path: orders}
store: {key: [order_id]}
"""


def test_a_valid_datetime_cursor_is_kept_in_utc_and_round_trips() -> None:
    [config] = parse_source_configs(ORDERS)
    spec = config.ingestion.incremental
    assert spec is not None and spec.kind == "datetime"
    assert (spec.cursor_path, spec.param, spec.initial_value) == (
        "meta.updated_at",
        "updated_after",
        "2025-12-31T23:00:00Z",
    )
    assert spec.lag == timedelta(minutes=5)
    dumped = dump_source_config(config)
    assert dumped["ingestion"]["incremental"] == {
        "cursor_path": "meta.updated_at",
        "param": "updated_after",
        "initial_value": "2025-12-31T23:00:00Z",
        "lag": "5m",
    }
    again = SourceConfig.model_validate(dumped)
    assert again == config and config_hash(again) == config_hash(config)


@pytest.mark.parametrize(("initial", "lag"), [(0, 10), (1.5, 0.5), (100, None)])
def test_a_numeric_cursor_takes_a_numeric_lag(initial: Any, lag: Any) -> None:
    text = ORDERS.replace("2026-01-01T00:00:00+01:00", str(initial)).replace("lag: 5m", f"lag: {json.dumps(lag)}")
    [config] = parse_source_configs(text)
    spec = config.ingestion.incremental
    assert spec is not None and spec.kind == "number"
    assert spec.initial_value == initial and type(spec.initial_value) is type(initial) and spec.lag == lag
    assert SourceConfig.model_validate(dump_source_config(config)) == config


def test_quoted_text_and_a_date_are_datetimes_too() -> None:
    for written, kept in (('"2026-02-03T04:05:06Z"', "2026-02-03T04:05:06Z"), ("2026-02-03", "2026-02-03T00:00:00Z")):
        [config] = parse_source_configs(ORDERS.replace("2026-01-01T00:00:00+01:00", written))
        assert config.ingestion.incremental is not None and config.ingestion.incremental.initial_value == kept


def test_the_schema_accepts_the_example() -> None:
    schema = json.loads((ROOT / "schemas" / "source-config.schema.json").read_text())
    document = yaml.safe_load(ORDERS)
    document["ingestion"]["incremental"]["initial_value"] = "2026-01-01T00:00:00+01:00"  # as an editor sees it
    assert [e.message for e in Draft202012Validator(schema).iter_errors(document)] == []


@pytest.mark.parametrize(
    ("value", "read"),
    [
        ("2026-03-01T10:00:00Z", datetime(2026, 3, 1, 10, tzinfo=UTC)),
        ("2026-03-01T12:00:00+02:00", datetime(2026, 3, 1, 10, tzinfo=UTC)),
        ("2026-03-01T10:00:00", datetime(2026, 3, 1, 10, tzinfo=UTC)),
        (date(2026, 3, 1), datetime(2026, 3, 1, tzinfo=UTC)),
        ("not a time", None),
        (1_700_000_000, None),
        (None, None),
    ],
)
def test_reading_a_datetime_cursor(value: Any, read: Any) -> None:
    assert read_cursor(value, "datetime") == read


@pytest.mark.parametrize(
    ("value", "read"), [(7, 7), (7.5, 7.5), ("42", 42), (" 4.5 ", 4.5), (True, None), (float("inf"), None), ("x", None)]
)
def test_reading_a_numeric_cursor(value: Any, read: Any) -> None:
    assert read_cursor(value, "number") == read


def test_a_cursor_travels_as_iso_z_text_or_a_number() -> None:
    assert wire_cursor(datetime(2026, 3, 1, 10, 0, 0, 250000, tzinfo=UTC)) == "2026-03-01T10:00:00.250000Z"
    assert wire_cursor(12) == 12
