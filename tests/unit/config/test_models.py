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
