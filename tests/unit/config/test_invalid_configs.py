"""Each invalid config gets its exact error at its exact place: line, column and dotted path."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from headwater.config import ConfigError, load_source_configs

BASE = """\
source_id: s1
ingestion:
  mode: scheduled_pull
  schedule: "0 6 * * *"
  request:
    base_url: https://api.example.com/v1/items
"""
ITERATION = "  iteration:\n    foreach: r\n    source_mcp: m\n    source_tool: t\n"  # lines 7-10 after BASE
WINDOW = "  window:\n    cadence: 1h\n    start: 2026-01-01T00:00:00Z\n    slice: 1h\n"  # lines 7-10 after BASE
PARSED = "parse:\n  format: csv\nstore:\n  key: [id]\n"  # lines 7-10 after BASE


class Case(NamedTuple):
    name: str
    text: str
    line: int
    column: int
    path: str
    message: str


def _schedule(value: str) -> str:
    return BASE.replace('"0 6 * * *"', value)


def _url(value: str) -> str:
    return BASE.replace("https://api.example.com/v1/items", value)


def _incremental(initial_value: str = "2026-01-01T00:00:00Z", extra: str = "", **keys: str) -> str:
    """An ``ingestion.incremental`` block: lines 7-10 after BASE, then ``extra`` (line 11 on)."""
    values = {"cursor_path": "updated_at", "param": "since", **keys}
    return (
        f"  incremental:\n    cursor_path: {values['cursor_path']}\n    param: {values['param']}\n"
        f"    initial_value: {initial_value}\n{extra}"
    )


CASES = [
    # schedules
    Case("bad cron", _schedule('"0 25 * * *"'), 4, 3, "ingestion.schedule", "not a valid cron expression"),
    Case(
        "six-field cron",
        _schedule('"0 0 6 * * *"'),
        4,
        3,
        "ingestion.schedule",
        "expected a 5-field cron expression (minute hour day-of-month month day-of-week), got 6 fields",
    ),
    Case("cron with L", _schedule('"0 6 L * *"'), 4, 3, "ingestion.schedule", "not supported by Dapr's scheduler"),
    Case("day-of-week 7", _schedule('"0 6 * * 7"'), 4, 3, "ingestion.schedule", "day-of-week '7' is outside 0-6"),
    Case("bad @every", _schedule('"@every soon"'), 4, 3, "ingestion.schedule", "'soon' is not a duration"),
    Case("@every 0s", _schedule('"@every 0s"'), 4, 3, "ingestion.schedule", "@every needs at least 1s"),
    Case("unknown descriptor", _schedule('"@fortnightly"'), 4, 3, "ingestion.schedule", "unknown descriptor"),
    Case("unquoted cron", _schedule("*/5 * * * *"), 4, 14, "", "quote values that start with '*'"),
    Case(
        "bad timezone",
        BASE + "  timezone: Mars/Olympus\n",
        7,
        3,
        "ingestion.timezone",
        "unknown timezone 'Mars/Olympus': use an IANA name",
    ),
    # unknown keys and values
    Case("unknown top key", BASE + "colour: blue\n", 7, 1, "colour", "unknown key 'colour'"),
    Case(
        "typo concurency",
        BASE + ITERATION + "    concurency: 5\n",
        11,
        5,
        "ingestion.iteration.concurency",
        "unknown key 'concurency' (did you mean 'concurrency'?)",
    ),
    Case(
        "unknown auth type",
        BASE + "    auth_type: magic\n",
        7,
        5,
        "ingestion.request.auth_type",
        "'magic' is not one of: 'none', 'api_key', 'bearer', 'basic', 'oauth2_client_credentials'",
    ),
    Case(
        "unknown parse format",
        BASE + "parse:\n  format: parquet\nstore:\n  key: [id]\n",
        8,
        3,
        "parse.format",
        "'parquet' is not one of: 'json', 'ndjson', 'csv', 'xlsx', 'sheets_values'",
    ),
    Case(
        "unknown pagination type",
        BASE + "    pagination:\n      type: scroll\n",
        8,
        7,
        "ingestion.request.pagination.type",
        "'scroll' is not one of: 'none', 'page_number', 'offset', 'cursor', 'next_url', 'link_header'",
    ),
    Case(
        "unknown field type",
        BASE + "validate:\n  fields:\n    n: {type: decimal}\n",
        9,
        9,
        "validate.fields.n.type",
        "'decimal' is not one of: 'string', 'integer', 'number', 'boolean', 'date', 'datetime'",
    ),
    Case("unknown method", BASE + "    method: PUT\n", 7, 5, "ingestion.request.method", "'PUT' is not one of: 'GET'"),
    Case(
        "unknown backoff",
        BASE + "  retry:\n    backoff: fibonacci\n",
        8,
        5,
        "ingestion.retry.backoff",
        "'fibonacci' is not one of: 'exponential', 'constant'",
    ),
    Case("duplicate key", BASE + "source_id: s2\n", 7, 1, "source_id", "duplicate key 'source_id' (first at line 1)"),
    Case(
        "nested duplicate key",
        BASE + "    base_url: https://b.example.com/\n",
        7,
        5,
        "ingestion.request.base_url",
        "duplicate key 'base_url' (first at line 6)",
    ),
    # URLs and templates
    Case("bad url scheme", _url("ftp://example.com/x"), 6, 5, "ingestion.request.base_url", "absolute http(s) URL"),
    Case("relative url", _url("/v1/items"), 6, 5, "ingestion.request.base_url", "absolute http(s) URL"),
    Case(
        "templated host",
        _url("https://{item.host}/v1"),
        6,
        5,
        "ingestion.request.base_url",
        "templates are not allowed in the scheme or host of base_url",
    ),
    Case(
        "credentials in url",
        _url("https://user:pw@api.example.com/"),
        6,
        5,
        "ingestion.request.base_url",
        "must not carry credentials",
    ),
    Case(
        "unknown variable in base_url path",
        _url("https://api.example.com/{region}/items"),
        6,
        5,
        "ingestion.request.base_url",
        "unknown template variable {region}; allowed: {item.<field>}, {window.from}, {window.to}, {linkage.<field>}",
    ),
    Case(
        "unknown template variable",
        BASE + '    parameters:\n      q: "{user.name}"\n',
        8,
        7,
        "ingestion.request.parameters.q",
        "unknown template variable {user.name}; allowed: {item.<field>}",
    ),
    Case(
        "item without iteration",
        BASE + "    path: /regions/{item.id}\n",
        7,
        5,
        "ingestion.request.path",
        "template variable {item.id} needs an ingestion.iteration block",
    ),
    Case(
        "window without window",
        BASE + '    parameters:\n      from: "{window.from}"\n',
        8,
        7,
        "ingestion.request.parameters.from",
        "template variable {window.from} needs an ingestion.window block",
    ),
    Case(
        "template in a body leaf",
        BASE + "    method: POST\n    body:\n      filter:\n        - {id: '{window.start}'}\n",
        10,
        12,
        "ingestion.request.body.filter.0.id",
        "unknown template variable {window.start}",
    ),
    Case(
        "template in a header",
        BASE + "    headers:\n      X-Region: '{item.code}'\n",
        8,
        7,
        "ingestion.request.headers.X-Region",
        "{item.code} needs an ingestion.iteration block",
    ),
    Case("unclosed brace", BASE + "    path: /x/{item.id\n", 7, 5, "ingestion.request.path", "unclosed '{'"),
    Case("lone closing brace", BASE + "    path: /x}\n", 7, 5, "ingestion.request.path", "write '}}' for a literal"),
    # auth
    Case(
        "api_key without secret_key",
        BASE + "    auth_type: api_key\n",
        5,
        3,
        "ingestion.request.secret_key",
        "auth_type api_key needs secret_key",
    ),
    Case(
        "bearer without secret_key",
        BASE + "    auth_type: bearer\n",
        5,
        3,
        "ingestion.request.secret_key",
        "auth_type bearer needs secret_key",
    ),
    Case(
        "basic without password",
        BASE + "    auth_type: basic\n    username_secret_key: u\n",
        5,
        3,
        "ingestion.request.password_secret_key",
        "auth_type basic needs password_secret_key",
    ),
    Case(
        "oauth2 without client secret",
        BASE + "    auth_type: oauth2_client_credentials\n    token_url: https://auth.example.com/token\n"
        "    client_id_secret_key: cid\n",
        5,
        3,
        "ingestion.request.client_secret_secret_key",
        "auth_type oauth2_client_credentials needs client_secret_secret_key",
    ),
    Case(
        "api_key in query without param",
        BASE + "    auth_type: api_key\n    secret_key: k\n    auth_in: query\n    auth_query_param: null\n",
        10,
        5,
        "ingestion.request.auth_query_param",
        "api_key with auth_in: query needs auth_query_param",
    ),
    Case(
        "secret_key as a number",
        BASE + "    auth_type: api_key\n    secret_key: 12345\n",
        8,
        5,
        "ingestion.request.secret_key",
        "expected a string, got the number 12345; quote it",
    ),
    Case(
        "bad header name",
        BASE + "    headers:\n      Bad Header: x\n",
        7,
        5,
        "ingestion.request.headers",
        "invalid header name 'Bad Header'",
    ),
    # limits
    Case(
        "concurrency 0",
        BASE + ITERATION + "    concurrency: 0\n",
        11,
        5,
        "ingestion.iteration.concurrency",
        "Input should be greater than or equal to 1",
    ),
    Case(
        "concurrency 501",
        BASE + ITERATION + "    concurrency: 501\n",
        11,
        5,
        "ingestion.iteration.concurrency",
        "Input should be less than or equal to 500",
    ),
    Case(
        "negative max_attempts",
        BASE + "  retry:\n    max_attempts: -1\n",
        8,
        5,
        "ingestion.retry.max_attempts",
        "Input should be greater than or equal to 1",
    ),
    Case(
        "max_attempts 11",
        BASE + "  retry:\n    max_attempts: 11\n",
        8,
        5,
        "ingestion.retry.max_attempts",
        "Input should be less than or equal to 10",
    ),
    Case(
        "timeout 0",
        BASE + "    timeout_seconds: 0\n",
        7,
        5,
        "ingestion.request.timeout_seconds",
        "Input should be greater than 0",
    ),
    Case(
        "timeout too long",
        BASE + "    timeout_seconds: 301\n",
        7,
        5,
        "ingestion.request.timeout_seconds",
        "Input should be less than or equal to 300",
    ),
    Case(
        "cursor without cursor_path",
        BASE + "    pagination:\n      type: cursor\n",
        7,
        5,
        "ingestion.request.pagination.cursor_path",
        "cursor pagination needs cursor_path",
    ),
    Case(
        "next_url without next_url_path",
        BASE + "    pagination:\n      type: next_url\n",
        7,
        5,
        "ingestion.request.pagination.next_url_path",
        "next_url pagination needs next_url_path",
    ),
    Case(
        "bad CIDR allowlist",
        BASE + "    allow_private_hosts: [10.0.0.0/33]\n",
        7,
        5,
        "ingestion.request.allow_private_hosts",
        "'10.0.0.0/33' is neither a hostname nor a CIDR network",
    ),
    # windows and durations
    Case(
        "bad duration",
        BASE + "  window:\n    cadence: 1 hour\n    start: 2026-01-01T00:00:00Z\n    slice: 1h\n",
        8,
        5,
        "ingestion.window.cadence",
        "invalid duration '1 hour': use a number and a unit",
    ),
    Case(
        "duration without unit",
        BASE + WINDOW + "    lookback: 60\n",
        11,
        5,
        "ingestion.window.lookback",
        "invalid duration 60",
    ),
    Case(
        "zero slice",
        BASE + "  window:\n    cadence: 1h\n    start: 2026-01-01T00:00:00Z\n    slice: 0s\n",
        10,
        5,
        "ingestion.window.slice",
        "slice must be longer than 0s",
    ),
    Case(
        "max_slices_per_run 0",
        BASE + WINDOW + "    max_slices_per_run: 0\n",
        11,
        5,
        "ingestion.window.max_slices_per_run",
        "Input should be greater than or equal to 1",
    ),
    Case(
        "window without start",
        BASE + "  window:\n    cadence: 1h\n    slice: 1h\n",
        7,
        3,
        "ingestion.window.start",
        "required key 'start' is missing",
    ),
    # modes
    Case(
        "push with schedule",
        BASE.replace("scheduled_pull", "push"),
        4,
        3,
        "ingestion.schedule",
        "mode push takes no schedule",
    ),
    Case(
        "push with request",
        BASE.replace("scheduled_pull", "push"),
        5,
        3,
        "ingestion.request",
        "mode push takes no request",
    ),
    Case(
        "pull without schedule",
        "source_id: s1\ningestion:\n  request:\n    base_url: https://a.example.com/\n",
        2,
        1,
        "ingestion.schedule",
        "mode scheduled_pull needs a schedule",
    ),
    Case(
        "pull without request",
        'source_id: s1\ningestion:\n  schedule: "@daily"\n',
        2,
        1,
        "ingestion.request",
        "mode scheduled_pull needs a request",
    ),
    # parse, map, validate, store
    Case("parse without store", BASE + "parse:\n  format: csv\n", 1, 1, "store.key", "needs store.key"),
    Case(
        "parse with empty store key",
        BASE + "parse:\n  format: csv\nstore:\n  key: []\n",
        10,
        3,
        "store.key",
        "a source with a parse section needs store.key",
    ),
    Case(
        "bad encoding",
        BASE + "parse:\n  format: csv\n  encoding: klingon\nstore:\n  key: [id]\n",
        9,
        3,
        "parse.encoding",
        "unknown encoding 'klingon'",
    ),
    Case(
        "header_row 0",
        BASE + "parse:\n  format: csv\n  header_row: 0\nstore:\n  key: [id]\n",
        9,
        3,
        "parse.header_row",
        "greater than or equal to 1",
    ),
    Case(
        "fuzzy threshold 101",
        BASE + PARSED + "map:\n  fuzzy_threshold: 101\n",
        12,
        3,
        "map.fuzzy_threshold",
        "less than or equal to 100",
    ),
    Case(
        "unknown map key",
        BASE + PARSED + "map:\n  feilds: {sku: SKU}\n",
        12,
        3,
        "map.feilds",
        "unknown key 'feilds' (did you mean 'fields'?)",
    ),
    Case(
        "min greater than max",
        BASE + "validate:\n  fields:\n    price: {type: number, min: 5, max: 1}\n",
        9,
        27,
        "validate.fields.price.min",
        "min (5) is greater than max (1)",
    ),
    Case(
        "bad regex",
        BASE + 'validate:\n  fields:\n    sku: {pattern: "[A-"}\n',
        9,
        11,
        "validate.fields.sku.pattern",
        "pattern is not a valid regular expression",
    ),
    Case(
        "empty enum",
        BASE + "validate:\n  fields:\n    cur: {enum: []}\n",
        9,
        11,
        "validate.fields.cur.enum",
        "enum needs at least one value",
    ),
    Case(
        "unknown store history",
        BASE + PARSED + "  history: scd3\n",
        11,
        3,
        "store.history",
        "'scd3' is not one of: 'none', 'scd2'",
    ),
    Case(
        "unknown store mode",
        BASE + PARSED + "  mode: full\n",
        11,
        3,
        "store.mode",
        "'full' is not one of: 'incremental', 'snapshot'",
    ),
    Case(
        "snapshot of a windowed source",
        BASE + WINDOW + PARSED + "  mode: snapshot\n",
        15,
        3,
        "store.mode",
        "snapshot mode needs the whole source in each delivery; a windowed source is incremental",
    ),
    Case(
        "valid_from_path not a field path",
        BASE + PARSED + "  valid_from_path: meta..updated_at\n",
        11,
        3,
        "store.valid_from_path",
        "'meta..updated_at' is not a dotted path of field names",
    ),
    Case(
        "raw_retention without a unit",
        BASE + PARSED + "  raw_retention: 30\n",
        11,
        3,
        "store.raw_retention",
        "invalid duration 30: use a number and a unit",
    ),
    Case(
        "raw_retention spelled out",
        BASE + PARSED + "  raw_retention: 30 days\n",
        11,
        3,
        "store.raw_retention",
        "invalid duration '30 days'",
    ),
    Case(
        "raw_retention of zero",
        BASE + PARSED + "  raw_retention: 0d\n",
        11,
        3,
        "store.raw_retention",
        "raw_retention must be longer than 0s",
    ),
    # JMESPath expressions are compiled when the config is validated, not when it first runs
    Case(
        "broken records_path",
        BASE + 'parse:\n  format: json\n  records_path: "orders["\nstore:\n  key: [id]\n',
        9,
        3,
        "parse.records_path",
        "records_path 'orders[' is not a valid JMESPath expression (Incomplete expression at column 7)",
    ),
    Case(
        "broken cursor_path",
        BASE + '    pagination:\n      type: cursor\n      cursor_path: "next..cursor"\n',
        9,
        7,
        "ingestion.request.pagination.cursor_path",
        "cursor_path 'next..cursor' is not a valid JMESPath expression (Expecting:",
    ),
    Case(
        "unclosed literal in has_more_path",
        BASE + '    pagination:\n      has_more_path: "meta.`more"\n',
        8,
        7,
        "ingestion.request.pagination.has_more_path",
        "has_more_path 'meta.`more' is not a valid JMESPath expression (Unclosed ` delimiter at column 5)",
    ),
    Case(
        "broken pagination records_path",
        BASE + '    pagination:\n      records_path: "items[?price >"\n',
        8,
        7,
        "ingestion.request.pagination.records_path",
        "records_path 'items[?price >' is not a valid JMESPath expression",
    ),
    Case(
        "broken JMESPath in map.fields of json records",
        BASE + 'parse:\n  format: json\nstore:\n  key: [id]\nmap:\n  fields:\n    sku: "item.[sku"\n',
        13,
        5,
        "map.fields.sku",
        "sku 'item.[sku' is not a valid JMESPath expression",
    ),
    # retries of failed windows
    Case(
        "window max_attempts 0",
        BASE + WINDOW + "    max_attempts: 0\n",
        11,
        5,
        "ingestion.window.max_attempts",
        "Input should be greater than or equal to 1",
    ),
    Case(
        "window retry_backoff_max shorter than retry_backoff",
        BASE + WINDOW + "    retry_backoff: 1h\n    retry_backoff_max: 10m\n",
        12,
        5,
        "ingestion.window.retry_backoff_max",
        "retry_backoff_max must not be shorter than retry_backoff",
    ),
    # incremental cursor
    Case(
        "incremental lag as a number for a datetime cursor",
        BASE + _incremental(extra="    lag: 5\n") + PARSED,
        11,
        5,
        "ingestion.incremental.lag",
        "a datetime cursor (initial_value is a datetime) takes a duration as lag (30s, 5m, 1h)",
    ),
    Case(
        "incremental lag as a duration for a numeric cursor",
        BASE + _incremental("0", "    lag: 5m\n") + PARSED,
        11,
        5,
        "ingestion.incremental.lag",
        "a numeric cursor (initial_value is a number) takes a number as lag, not a duration",
    ),
    Case(
        "incremental lag spelled out",
        BASE + _incremental(extra="    lag: 5 minutes\n") + PARSED,
        11,
        5,
        "ingestion.incremental.lag",
        "invalid duration '5 minutes'",
    ),
    Case(
        "incremental negative lag",
        BASE + _incremental("100", "    lag: -1\n") + PARSED,
        11,
        5,
        "ingestion.incremental.lag",
        "lag -1 must be a number of at least 0",
    ),
    Case(
        "incremental initial_value neither a datetime nor a number",
        BASE + _incremental("yesterday") + PARSED,
        10,
        5,
        "ingestion.incremental.initial_value",
        "initial_value 'yesterday' is neither an ISO-8601 datetime (like 2026-01-01T00:00:00Z) nor a number",
    ),
    Case(
        "incremental cursor_path not a field path",
        BASE + _incremental(cursor_path='"meta..updated_at"') + PARSED,
        8,
        5,
        "ingestion.incremental.cursor_path",
        "'meta..updated_at' is not a dotted path of field names",
    ),
    Case(
        "incremental param not a query parameter name",
        BASE + _incremental(param='"up dated"') + PARSED,
        9,
        5,
        "ingestion.incremental.param",
        "param 'up dated' is not a query parameter name",
    ),
    Case(
        "incremental param already in request.parameters",
        BASE + "    parameters:\n      since: x\n" + _incremental() + PARSED,
        11,
        5,
        "ingestion.incremental.param",
        "param 'since' is already set in request.parameters",
    ),
    Case(
        "incremental param is the pagination's",
        BASE + "    pagination:\n      type: page_number\n" + _incremental(param="page") + PARSED,
        11,
        5,
        "ingestion.incremental.param",
        "param 'page' is already the pagination's page_param",
    ),
    Case(
        "incremental of a push source",
        "source_id: s1\ningestion:\n  mode: push\n" + _incremental() + PARSED,
        4,
        3,
        "ingestion.incremental",
        "mode push takes no incremental (files are uploaded)",
    ),
    Case(
        "incremental with a window",
        BASE + WINDOW + _incremental() + PARSED,
        11,
        3,
        "ingestion.incremental",
        "incremental cannot be combined with window",
    ),
    Case(
        "incremental with iteration",
        BASE + ITERATION + _incremental() + PARSED,
        11,
        3,
        "ingestion.incremental",
        "incremental cannot be combined with iteration (one cursor per source, not per item)",
    ),
    Case(
        "incremental without parse",
        BASE + _incremental(),
        7,
        3,
        "ingestion.incremental",
        "incremental needs a parse section (the cursor is read from the records)",
    ),
    # the source itself and the file
    Case("missing source_id", BASE.replace("source_id: s1\n", ""), 1, 1, "source_id", "required key 'source_id'"),
    Case(
        "bad source_id slug",
        BASE.replace("source_id: s1", "source_id: My Source"),
        1,
        1,
        "source_id",
        "'My Source' is not a valid source_id",
    ),
    Case(
        "section is a list",
        "source_id: s1\ningestion: [a, b]\n",
        2,
        1,
        "ingestion",
        "expected a mapping of keys to values, got a list",
    ),
    Case("not a mapping", "- just\n- a list\n", 1, 1, "", "a source config must be a mapping of keys to values"),
    Case("invalid yaml", "source_id: [unclosed\n", 2, 1, "", "invalid YAML"),
    Case("empty file", "", 1, 1, "", "the file holds no source config"),
    Case("only comments", "# nothing here\n", 1, 1, "", "the file holds no source config"),
]


def test_the_table_is_large_and_names_are_unique() -> None:
    assert len(CASES) >= 35
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_invalid_config_gets_its_exact_error_and_place(tmp_path: Path, case: Case) -> None:
    file = tmp_path / "source.yaml"
    file.write_text(case.text)
    with pytest.raises(ConfigError) as err:
        load_source_configs([file])
    issues = err.value.issues
    matching = [i for i in issues if i.path == case.path and case.message in i.message]
    assert matching, "\n".join(str(i) for i in issues)
    issue = matching[0]
    assert (issue.line, issue.column) == (case.line, case.column), str(issue)
    prefix = f"{file}:{case.line}:{case.column}: " + (f"{case.path}: " if case.path else "")
    assert str(issue) == prefix + issue.message
