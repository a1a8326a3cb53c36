"""Source configs are data validated like code: every file in config/source-configs/ loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater.config import SourceConfig, config_hash, dump_source_config, load_source_config_file

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "config" / "source-configs").glob("*.yaml"))
SCHEMA_LINE = "# yaml-language-server: $schema=../../schemas/source-config.schema.json\n"

WEATHER_API = """\
source_id: weather-api
ingestion:
  mode: scheduled_pull
  schedule: "0 6 * * *"
  request:
    base_url: https://api.open-meteo.com/v1/forecast
    auth_type: none
    parameters:
      hourly: temperature_2m,relative_humidity_2m,precipitation,wind_speed_10m
    timeout_seconds: 30
  iteration:
    foreach: region
    source_mcp: plantation-mcp
    source_tool: list_active_regions
    concurrency: 5
  retry:
    max_attempts: 3
    backoff: exponential
"""


def test_the_documented_examples_exist() -> None:
    assert {p.stem for p in EXAMPLES} >= {
        "weather-api",
        "products-api",
        "supplier-prices-csv",
        "supplier-prices-xlsx",
        "sheets-inventory",
        "orders-windowed",
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_loads_and_round_trips(path: Path) -> None:
    config = load_source_config_file(path)
    assert config.source_id == path.stem
    again = SourceConfig.model_validate(dump_source_config(config))
    assert again == config
    assert config_hash(again) == config_hash(config)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_points_editors_at_the_schema(path: Path) -> None:
    assert path.read_text().startswith(SCHEMA_LINE)


def test_the_seed_weather_api_text_still_validates(tmp_path: Path) -> None:
    """The example as first documented (no coordinates, items read by default) is still a valid config."""
    path = tmp_path / "weather-api.yaml"
    path.write_text(SCHEMA_LINE + WEATHER_API)
    config = load_source_config_file(path)
    assert config.ingestion.iteration is not None and config.ingestion.iteration.concurrency == 5
    assert config.ingestion.iteration.items_path == "" and config.ingestion.iteration.timeout_seconds == 30
    assert config.ingestion.request is not None and config.ingestion.request.timeout_seconds == 30


def test_the_weather_example_sends_each_regions_coordinates() -> None:
    config = load_source_config_file(ROOT / "config" / "source-configs" / "weather-api.yaml")
    request, iteration = config.ingestion.request, config.ingestion.iteration
    assert request is not None and iteration is not None
    assert request.parameters["latitude"] == "{item.latitude}"
    assert request.parameters["longitude"] == "{item.longitude}"
    assert (iteration.source_mcp, iteration.source_tool, iteration.items_path) == (
        "plantation-mcp",
        "list_active_regions",
        "result",
    )


def test_the_windowed_example_templates_its_window() -> None:
    config = load_source_config_file(ROOT / "config" / "source-configs" / "orders-windowed.yaml")
    assert config.ingestion.request is not None and config.ingestion.window is not None
    assert set(config.ingestion.request.parameters.values()) == {"{window.from}", "{window.to}"}
    assert dump_source_config(config)["ingestion"]["window"]["start"] == "2026-01-01T00:00:00Z"
