"""``headwater reprocess``: the request it sends, how it reads ``--since`` and what it prints."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from headwater_ops.cli.client import ApiClient
from headwater_ops.cli.main import app
from headwater_ops.cli.reprocess_cmds import queue, report_lines, since_time

NOW = datetime(2026, 2, 1, 12, tzinfo=UTC)
ANSWER = {
    "source_id": "prices",
    "config_version": 3,
    "run_id": "reprocess-0a1b2c3d4e5f",
    "queued": 1,
    "documents": ["prices:aaa"],
    "expired": ["prices:bbb"],
    "superseded": ["prices:ccc"],
}


def test_since_is_a_time_or_a_duration_back_from_now() -> None:
    assert since_time("2026-01-01T00:00:00Z", NOW) == datetime(2026, 1, 1, tzinfo=UTC)
    assert since_time("2026-01-01T01:00:00+01:00", NOW) == datetime(2026, 1, 1, tzinfo=UTC)
    assert since_time("2026-01-01", NOW) == datetime(2026, 1, 1, tzinfo=UTC)  # no zone: UTC
    assert since_time("24h", NOW) == NOW - timedelta(hours=24)
    with pytest.raises(ValueError, match="ISO 8601 time"):
        since_time("yesterday", NOW)


def test_the_request_goes_to_the_worker_route_with_what_was_asked() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    def worker(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, json.loads(request.content)))
        return httpx.Response(202, json=ANSWER)

    api = ApiClient("http://sidecar/v1.0/invoke/worker/method", "t", transport=httpx.MockTransport(worker))
    assert queue(api, "prices", None, NOW) == ANSWER
    queue(api, "prices", "prices:aaa", None)
    queue(api, "prices", None, None)
    path = "/v1.0/invoke/worker/method/api/v1/sources/prices/reprocess"
    assert seen == [
        (path, {"since": "2026-02-01T12:00:00+00:00"}),
        (path, {"document": "prices:aaa"}),
        (path, {}),
    ]


def test_what_was_queued_is_printed_and_what_could_not_be_is_a_warning() -> None:
    out, problems = report_lines(ANSWER)
    assert out[0].startswith("queued 1 document(s) of source/prices for reprocessing with config version 3")
    assert out[1:] == ["  prices:aaa"]
    assert problems == [
        "superseded by a later document of its stream, not reprocessed: prices:ccc",
        "body expired (store.raw_retention), cannot be reprocessed: prices:bbb",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--document", "x", "--since", "1h"], "exclude each other"),
        (["--since", "soon"], "ISO 8601 time"),
    ],
)
def test_usage_errors_exit_2_before_anything_is_sent(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["reprocess", "prices", *args, "--worker-url", "http://127.0.0.1:9"])
    assert result.exit_code == 2 and message in result.output
