"""The normalised form and its hash: stable across spelling, sensitive to meaning."""

from __future__ import annotations

from headwater.config import config_hash, dump_source_config, parse_source_configs

BASE = """\
source_id: s1
ingestion:
  mode: scheduled_pull
  schedule: "0 6 * * *"
  request:
    base_url: https://api.example.com/v1/items
"""


def _hash(text: str) -> str:
    (config,) = parse_source_configs(text)
    return config_hash(config)


def test_config_hash_ignores_key_order_and_spelled_out_defaults() -> None:
    reordered = (
        'ingestion:\n  request:\n    base_url: https://api.example.com/v1/items\n  schedule: "0 6 * * *"\n'
        "  mode: scheduled_pull\nsource_id: s1\n"
    )
    with_defaults = BASE + "    method: GET\n    auth_type: none\n  timezone: UTC\nenabled: true\n"
    assert _hash(BASE) == _hash(reordered) == _hash(with_defaults)
    assert len(_hash(BASE)) == 64


def test_config_hash_follows_values() -> None:
    assert _hash(BASE) != _hash(BASE.replace("v1/items", "v2/items"))
    assert _hash(BASE) != _hash(BASE.replace("0 6", "0 7"))
    assert _hash(BASE) != _hash(BASE + "enabled: false\n")


def test_equivalent_durations_and_times_hash_alike() -> None:
    window = "  window:\n    cadence: {c}\n    start: {s}\n    slice: 1h\n"
    a = BASE + window.format(c="90m", s="2026-01-01T01:00:00+01:00")
    b = BASE + window.format(c="1h30m", s="2026-01-01T00:00:00Z")
    assert _hash(a) == _hash(b)


def test_the_normalised_form_uses_yaml_names_and_json_types() -> None:
    text = BASE + "  window:\n    cadence: 1h\n    start: 2026-01-01\n    slice: 30m\nmap:\n  fields: {sku: SKU}\n"
    (config,) = parse_source_configs(text)
    dumped = dump_source_config(config)
    assert dumped["map"]["fields"] == {"sku": "SKU"} and "map_" not in dumped
    assert dumped["ingestion"]["window"] | {"timezone": "UTC"} == {
        "cadence": "1h",
        "start": "2026-01-01T00:00:00Z",
        "lookback": "0s",
        "slice": "30m",
        "max_slices_per_run": 24,
        "timezone": "UTC",
        "max_attempts": 5,
        "retry_backoff": "1m",
        "retry_backoff_max": "6h",
    }
    assert dumped["ingestion"]["request"]["pagination"]["max_pages"] == 1000
