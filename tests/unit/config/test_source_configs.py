"""Source configs are data validated like code: every example loads, and each invalid
config gets its exact error at its exact place."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from headwater.config import (
    ConfigError,
    SourceConfig,
    config_hash,
    dump_source_config,
    load_source_configs,
    parse_source_configs,
    to_dapr_schedule,
)
from headwater.config.schema import render_schema
from headwater.runtime.settings import project_dir

ROOT = project_dir()
EXAMPLES = sorted((ROOT / "config" / "source-configs").glob("*.yaml"))

BASE = """\
source_id: s1
ingestion:
  mode: scheduled_pull
  schedule: "0 6 * * *"
  request:
    base_url: https://api.example.com/v1/items
"""


def test_there_are_examples() -> None:
    assert {p.stem for p in EXAMPLES} >= {
        "weather-api",
        "products-api",
        "supplier-prices-csv",
        "supplier-prices-xlsx",
        "sheets-inventory",
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_config_is_valid_and_round_trips(path: Path) -> None:
    configs = load_source_configs([path])
    assert [c.source_id for c in configs] == [path.stem]
    for config in configs:
        assert SourceConfig.model_validate(dump_source_config(config)) == config


def test_weather_api_is_accepted_verbatim() -> None:
    (config,) = load_source_configs([ROOT / "config/source-configs/weather-api.yaml"])
    assert config.ingestion.iteration is not None and config.ingestion.iteration.concurrency == 5
    assert config.ingestion.request is not None and config.ingestion.request.timeout_seconds == 30


def _with(extra: str, base: str = BASE) -> str:
    return base + textwrap.dedent(extra)


# (name, yaml, line, column, path, message substring)
INVALID = [
    ("bad cron", BASE.replace('"0 6 * * *"', '"0 25 * * *"'), 4, 3, "ingestion.schedule", "not a valid cron"),
    (
        "six-field cron",
        BASE.replace('"0 6 * * *"', '"0 0 6 * * *"'),
        4,
        3,
        "ingestion.schedule",
        "expected a 5-field cron expression",
    ),
    ("bad @every", BASE.replace('"0 6 * * *"', '"@every soon"'), 4, 3, "ingestion.schedule", "@every needs a duration"),
    (
        "unknown descriptor",
        BASE.replace('"0 6 * * *"', '"@fortnightly"'),
        4,
        3,
        "ingestion.schedule",
        "unknown descriptor",
    ),
    ("unknown top key", _with("colour: blue\n"), 7, 1, "colour", "unknown key 'colour'"),
    (
        "typo concurency",
        BASE + "  iteration:\n    foreach: r\n    source_mcp: m\n    source_tool: t\n    concurency: 5\n",
        11,
        5,
        "ingestion.iteration.concurency",
        "unknown key 'concurency'",
    ),
    (
        "bad url",
        BASE.replace("https://api.example.com/v1/items", "ftp://example.com/x"),
        6,
        5,
        "ingestion.request.base_url",
        "absolute http(s) URL",
    ),
    (
        "relative url",
        BASE.replace("https://api.example.com/v1/items", "/v1/items"),
        6,
        5,
        "ingestion.request.base_url",
        "absolute http(s) URL",
    ),
    (
        "templated host",
        BASE.replace("api.example.com", "{item.host}"),
        6,
        5,
        "ingestion.request.base_url",
        "not allowed in the scheme or host",
    ),
    (
        "concurrency 0",
        BASE + "  iteration:\n    foreach: r\n    source_mcp: m\n    source_tool: t\n    concurrency: 0\n",
        11,
        5,
        "ingestion.iteration.concurrency",
        "greater than or equal to 1",
    ),
    (
        "concurrency 101",
        BASE + "  iteration:\n    foreach: r\n    source_mcp: m\n    source_tool: t\n    concurrency: 101\n",
        11,
        5,
        "ingestion.iteration.concurrency",
        "less than or equal to 100",
    ),
    (
        "unknown auth type",
        BASE + "    auth_type: magic\n",
        7,
        5,
        "ingestion.request.auth_type",
        "'magic' is not one of: 'none', 'api_key', 'bearer', 'basic', 'oauth2_client_credentials'",
    ),
    (
        "api_key without secret_key",
        BASE + "    auth_type: api_key\n",
        5,
        3,
        "ingestion.request.secret_key",
        "auth_type api_key needs secret_key",
    ),
    (
        "bearer without secret_key",
        BASE + "    auth_type: bearer\n",
        5,
        3,
        "ingestion.request.secret_key",
        "auth_type bearer needs secret_key",
    ),
    (
        "basic without password",
        BASE + "    auth_type: basic\n    username_secret_key: u\n",
        5,
        3,
        "ingestion.request.password_secret_key",
        "needs password_secret_key",
    ),
    (
        "oauth2 without token_url",
        BASE + "    auth_type: oauth2_client_credentials\n",
        5,
        3,
        "ingestion.request.token_url",
        "needs token_url",
    ),
    (
        "api_key in query without param",
        BASE + "    auth_type: api_key\n    secret_key: k\n    auth_in: query\n    auth_query_param: null\n",
        10,
        5,
        "ingestion.request.auth_query_param",
        "needs auth_query_param",
    ),
    (
        "unknown template variable",
        BASE + '    parameters:\n      q: "{user.name}"\n',
        8,
        7,
        "ingestion.request.parameters.q",
        "unknown template variable {user.name}",
    ),
    (
        "item without iteration",
        BASE + "    path: /regions/{item.id}\n",
        7,
        5,
        "ingestion.request.path",
        "{item.id} needs an ingestion.iteration block",
    ),
    (
        "window without window",
        BASE + '    parameters:\n      from: "{window.from}"\n',
        8,
        7,
        "ingestion.request.parameters.from",
        "{window.from} needs an ingestion.window block",
    ),
    ("unclosed brace", BASE + "    path: /x/{item.id\n", 7, 5, "ingestion.request.path", "unclosed '{'"),
    (
        "bad timezone",
        BASE + "  timezone: Mars/Olympus\n",
        7,
        3,
        "ingestion.timezone",
        "unknown timezone 'Mars/Olympus'",
    ),
    (
        "bad duration",
        BASE + "  window:\n    cadence: 1 hour\n    start: 2026-01-01T00:00:00Z\n    slice: 1h\n",
        8,
        5,
        "ingestion.window.cadence",
        "invalid duration '1 hour'",
    ),
    (
        "zero slice",
        BASE + "  window:\n    cadence: 1h\n    start: 2026-01-01T00:00:00Z\n    slice: 0s\n",
        10,
        5,
        "ingestion.window.slice",
        "slice must be longer than 0s",
    ),
    (
        "max_attempts 0",
        BASE + "  retry:\n    max_attempts: 0\n",
        8,
        5,
        "ingestion.retry.max_attempts",
        "greater than or equal to 1",
    ),
    (
        "unknown backoff",
        BASE + "  retry:\n    backoff: fibonacci\n",
        8,
        5,
        "ingestion.retry.backoff",
        "'fibonacci' is not one of: 'exponential', 'constant'",
    ),
    (
        "timeout too long",
        BASE + "    timeout_seconds: 301\n",
        7,
        5,
        "ingestion.request.timeout_seconds",
        "less than or equal to 300",
    ),
    ("duplicate key", BASE + "source_id: s2\n", 7, 1, "", "duplicate key 'source_id'"),
    ("parse without store key", BASE + "parse:\n  format: csv\n", 1, 1, "store.key", "needs store.key"),
    (
        "unknown parse format",
        BASE + "parse:\n  format: parquet\nstore:\n  key: [id]\n",
        8,
        3,
        "parse.format",
        "'parquet' is not one of: 'json', 'ndjson', 'csv', 'xlsx', 'sheets_values'",
    ),
    (
        "min greater than max",
        BASE + "validate:\n  fields:\n    price: {type: number, min: 5, max: 1}\n",
        9,
        27,
        "validate.fields.price.min",
        "min (5) is greater than max (1)",
    ),
    (
        "bad regex",
        BASE + 'validate:\n  fields:\n    sku: {pattern: "[A-"}\n',
        9,
        11,
        "validate.fields.sku.pattern",
        "not a valid regular expression",
    ),
    (
        "empty enum",
        BASE + "validate:\n  fields:\n    cur: {enum: []}\n",
        9,
        11,
        "validate.fields.cur.enum",
        "needs at least one value",
    ),
    (
        "unknown field type",
        BASE + "validate:\n  fields:\n    n: {type: decimal}\n",
        9,
        9,
        "validate.fields.n.type",
        "'decimal' is not one of",
    ),
    (
        "push with schedule",
        BASE.replace("scheduled_pull", "push"),
        4,
        3,
        "ingestion.schedule",
        "mode push takes no schedule",
    ),
    (
        "pull without schedule",
        "source_id: s1\ningestion:\n  request:\n    base_url: https://a.example.com/\n",
        2,
        1,
        "ingestion.schedule",
        "needs a schedule",
    ),
    ("missing source_id", BASE.replace("source_id: s1\n", ""), 1, 1, "source_id", "required key is missing"),
    (
        "bad slug",
        BASE.replace("source_id: s1", "source_id: My Source"),
        1,
        1,
        "source_id",
        "'My Source' is not a valid source_id",
    ),
    (
        "cursor without cursor_path",
        BASE + "    pagination:\n      type: cursor\n",
        7,
        5,
        "ingestion.request.pagination.cursor_path",
        "needs cursor_path",
    ),
    (
        "unknown pagination type",
        BASE + "    pagination:\n      type: scroll\n",
        8,
        7,
        "ingestion.request.pagination.type",
        "'scroll' is not one of",
    ),
    ("not a mapping", "- just\n- a list\n", 1, 1, "", "must be a mapping"),
    ("invalid yaml", "source_id: [unclosed\n", 2, 1, "", "invalid YAML"),
    ("empty file", "", 1, 1, "", "holds no source config"),
    (
        "bad CIDR allowlist",
        BASE + "    allow_private_hosts: [10.0.0.0/33]\n",
        7,
        5,
        "ingestion.request.allow_private_hosts",
        "neither a hostname nor a CIDR",
    ),
]


@pytest.mark.parametrize(("name", "text", "line", "column", "path", "message"), INVALID, ids=[i[0] for i in INVALID])
def test_invalid_config_gets_its_exact_error_and_place(
    tmp_path: Path, name: str, text: str, line: int, column: int, path: str, message: str
) -> None:
    file = tmp_path / "source.yaml"
    file.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_source_configs([file])
    issues = err.value.issues
    assert any(i.path == path and message in i.message for i in issues), [str(i) for i in issues]
    issue = next(i for i in issues if i.path == path and message in i.message)
    assert (issue.line, issue.column) == (line, column), str(issue)
    assert str(issue).startswith(f"{file}:{line}:{column}: ")


def test_all_errors_of_a_file_are_reported_at_once() -> None:
    text = BASE.replace('"0 6 * * *"', '"nope"') + "    timeout_seconds: 0\ncolour: blue\n"
    with pytest.raises(ConfigError) as err:
        parse_source_configs(text, "x.yaml")
    paths = {i.path for i in err.value.issues}
    assert {"ingestion.schedule", "ingestion.request.timeout_seconds", "colour"} <= paths


def test_errors_of_several_files_are_collected(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("colour: 1\n")
    (tmp_path / "b.yaml").write_text(BASE + "x: 1\n")
    with pytest.raises(ConfigError) as err:
        load_source_configs([tmp_path / "a.yaml", tmp_path / "b.yaml"])
    assert {Path(i.file).name for i in err.value.issues} == {"a.yaml", "b.yaml"}


def test_several_documents_in_one_file() -> None:
    configs = parse_source_configs(BASE + "---\n" + BASE.replace("s1", "s2"))
    assert [c.source_id for c in configs] == ["s1", "s2"]


@pytest.mark.parametrize(
    ("schedule", "zone", "expected"),
    [
        ("0 6 * * *", "UTC", "0 0 6 * * *"),
        ("*/15 * * * 1-5", "UTC", "0 */15 * * * 1-5"),
        ("0 6 * * *", "Europe/Berlin", "CRON_TZ=Europe/Berlin 0 0 6 * * *"),
        ("@every 30s", "UTC", "@every 30s"),
        ("@hourly", "Europe/Berlin", "@hourly"),
        ("@daily", "UTC", "@daily"),
    ],
)
def test_schedules_convert_to_dapr_form(schedule: str, zone: str, expected: str) -> None:
    assert to_dapr_schedule(schedule, zone) == expected


def test_config_hash_ignores_key_order_and_follows_values() -> None:
    (a,) = parse_source_configs(BASE)
    reordered = (
        'ingestion:\n  request:\n    base_url: https://api.example.com/v1/items\n  schedule: "0 6 * * *"\n'
        "  mode: scheduled_pull\nsource_id: s1\n"
    )
    (b,) = parse_source_configs(reordered)
    (c,) = parse_source_configs(BASE.replace("v1/items", "v2/items"))
    assert config_hash(a) == config_hash(b)
    assert config_hash(a) != config_hash(c)
    assert len(config_hash(a)) == 64


def test_committed_json_schema_is_current() -> None:
    committed = (ROOT / "schemas" / "source-config.schema.json").read_text()
    assert committed == render_schema(), "schemas/source-config.schema.json is stale: run `make schema`"
    schema = json.loads(committed)
    assert schema["additionalProperties"] is False
    assert "ingestion" in schema["required"]
