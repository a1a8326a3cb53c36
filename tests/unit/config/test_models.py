"""The models themselves, used from Python (services build them from stored dicts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from headwater.config import MapSpec, RequestSpec, SourceConfig, WindowSpec, issues_from_validation


def _config(**extra: object) -> SourceConfig:
    return SourceConfig.model_validate(
        {
            "source_id": "s1",
            "ingestion": {"schedule": "@daily", "request": {"base_url": "https://api.example.com/"}},
            **extra,
        }
    )


def test_models_are_frozen() -> None:
    config = _config()
    with pytest.raises(ValidationError, match="frozen"):
        config.source_id = "other"


def test_map_and_validate_by_alias_or_python_name() -> None:
    assert _config(map={"fields": {"sku": "SKU"}}).map_ == MapSpec(fields={"sku": "SKU"})
    assert _config(map_={"fields": {"sku": "SKU"}}).map_ == MapSpec(fields={"sku": "SKU"})
    assert "map" in _config(map={}).model_dump() and "validate" in _config(validate={}).model_dump()


def test_window_durations_and_start() -> None:
    window = WindowSpec.model_validate({"cadence": "15m", "start": "2026-01-01T00:00:00", "slice": "1d"})
    assert window.cadence == timedelta(minutes=15) and window.slice == timedelta(days=1)
    assert window.lookback == timedelta(0)
    assert window.start == datetime(2026, 1, 1, tzinfo=UTC) and window.start.tzinfo is UTC
    assert window.model_dump(mode="json")["cadence"] == "15m"


def test_schedule_is_normalised() -> None:
    config = SourceConfig.model_validate(
        {"source_id": "s1", "ingestion": {"schedule": " 0  6 * * * ", "request": {"base_url": "https://a.example/"}}}
    )
    assert config.ingestion.schedule == "0 6 * * *"


def test_push_sources_need_no_request() -> None:
    config = SourceConfig.model_validate({"source_id": "upload", "ingestion": {"mode": "push"}})
    assert config.ingestion.request is None and config.ingestion.schedule is None


def test_a_templated_base_url_path_is_allowed_with_iteration() -> None:
    config = _config(
        ingestion={
            "schedule": "@daily",
            "request": {"base_url": "https://api.example.com/regions/{item.id}?at={{now}}"},
            "iteration": {"foreach": "region", "source_mcp": "m", "source_tool": "t"},
        }
    )
    assert config.ingestion.request is not None and "{item.id}" in config.ingestion.request.base_url


def test_errors_from_python_data_carry_paths() -> None:
    with pytest.raises(ValidationError) as err:
        _config(ingestion={"schedule": "@daily", "request": {"base_url": "https://a.example/", "auth_type": "bearer"}})
    assert issues_from_validation(err.value) == [("ingestion.request.secret_key", "auth_type bearer needs secret_key")]


def test_request_spec_alone() -> None:
    spec = RequestSpec(base_url="https://api.example.com/v1", auth_type="api_key", secret_key="k")
    assert spec.auth_header == "X-API-Key" and spec.pagination.type == "none"


def test_map_fields_are_jmespath_only_for_json_records() -> None:
    table = {"parse": {"format": "csv"}, "store": {"key": ["sku"]}, "map": {"fields": {"price": "Unit Price [EUR]"}}}
    assert _config(**table).map_ == MapSpec(fields={"price": "Unit Price [EUR]"})  # a header name, not compiled
    records = {"parse": {"format": "ndjson"}, "store": {"key": ["sku"]}, "map": {"fields": {"price": "Unit Price"}}}
    with pytest.raises(ValidationError) as err:
        _config(**records)
    message = "price 'Unit Price' is not a valid JMESPath expression (Unexpected token: Price at column 5)"
    assert issues_from_validation(err.value) == [("map.fields.price", message)]


def test_an_empty_jmespath_means_not_set_and_valid_ones_pass() -> None:
    config = _config(parse={"format": "json", "records_path": ""}, store={"key": ["id"]})
    assert config.parse is not None and config.parse.records_path == ""
    paths = {"type": "cursor", "cursor_path": "meta.next", "records_path": "data[?active]", "total_path": "length(@)"}
    request = RequestSpec.model_validate({"base_url": "https://api.example.com/", "pagination": paths})
    assert request.pagination.cursor_path == "meta.next"


def test_window_retry_keys_default_and_read_durations() -> None:
    window = WindowSpec.model_validate({"cadence": "1h", "start": "2026-01-01T00:00:00Z", "slice": "1h"})
    assert (window.max_attempts, window.retry_backoff, window.retry_backoff_max) == (
        5,
        timedelta(minutes=1),
        timedelta(hours=6),
    )


def test_store_modes_and_valid_from_path() -> None:
    plain = _config(parse={"format": "csv"}, store={"key": ["sku"]})
    assert plain.store is not None and (plain.store.mode, plain.store.valid_from_path) == ("incremental", None)
    snapshot = _config(
        parse={"format": "csv"},
        store={"key": ["sku"], "mode": "snapshot", "valid_from_path": "meta.effective_from"},
    )
    assert snapshot.store is not None and snapshot.store.mode == "snapshot"
    assert snapshot.store.valid_from_path == "meta.effective_from"
    assert SourceConfig.model_validate(snapshot.model_dump()) == snapshot


@pytest.mark.parametrize(
    ("text", "kept"), [("30d", timedelta(days=30)), ("720h", timedelta(days=30)), ("1d12h", timedelta(hours=36))]
)
def test_raw_retention_reads_durations_and_writes_them_canonically(text: str, kept: timedelta) -> None:
    config = _config(parse={"format": "csv"}, store={"key": ["sku"], "raw_retention": text})
    assert config.store is not None and config.store.raw_retention == kept
    dumped = config.model_dump(mode="json")["store"]["raw_retention"]
    assert dumped in ("30d", "1d12h") and SourceConfig.model_validate(config.model_dump(mode="json")) == config


def test_raw_retention_defaults_to_keeping_bodies_forever() -> None:
    config = _config(parse={"format": "csv"}, store={"key": ["sku"]})
    assert config.store is not None and config.store.raw_retention is None
