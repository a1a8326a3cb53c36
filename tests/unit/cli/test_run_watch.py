"""``headwater runs watch`` and ``sources trigger --wait``: the progress they poll, what they print
and the exit code of each outcome (0 succeeded, 1 failed/partial/timeout, 3 unreachable)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from typer.testing import CliRunner

from headwater_ops.cli.main import app
from headwater_ops.cli.run_watch import counts_lines

TASKS = {"total": 2, "pending": 2}
ZERO_FETCH = {"items": 0, "pages": 0, "fetched": 0, "failed": 0, "documents": 0}
ZERO_DOCS = {"expected": 0, "stored": 0, "duplicate": 0, "failed": 0}
ZERO_RECORDS = {"created": 0, "updated": 0, "deleted": 0, "unchanged": 0, "rows_rejected": 0}
DONE = {
    "tasks": {"total": 2, "succeeded": 1, "partial": 1},
    "fetch": {"items": 3, "pages": 3, "fetched": 3, "failed": 0, "documents": 3},
    "documents": {"expected": 3, "stored": 2, "duplicate": 1, "failed": 0},
    "records": {"created": 5, "updated": 1, "deleted": 0, "unchanged": 0, "rows_rejected": 2},
}


def _answer(status: str, progress: dict[str, Any], error: str | None = None) -> dict[str, Any]:
    run = {"run_id": "r-1", "source_id": "prices", "status": status, "error": error}
    return {"run": run, "progress": progress}


RUNNING = _answer("enqueued", {"tasks": TASKS, "fetch": ZERO_FETCH, "documents": ZERO_DOCS, "records": ZERO_RECORDS})


class Planner:
    """A planner answering ``trigger`` and ``runs/r-1/progress`` from a script of answers."""

    def __init__(self, answers: list[dict[str, Any]]) -> None:
        self.answers, self.seen = answers, []  # type: ignore[var-annotated]
        planner = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                planner.seen.append(("POST", self.path))
                self._send({"outcome": "triggered", "work_items": 2, "run_id": "r-1", "detail": None})

            def do_GET(self) -> None:
                planner.seen.append(("GET", self.path))
                self._send(planner.answers.pop(0) if len(planner.answers) > 1 else planner.answers[0])

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def env(self) -> dict[str, str]:
        url = f"http://127.0.0.1:{self.server.server_address[1]}"
        return {"HEADWATER_API_URL": url, "HEADWATER_API_TOKEN": "t", "DAPR_API_TOKEN": "d", "COLUMNS": "160"}


@pytest.fixture
def planner() -> Iterator[Planner]:
    server = Planner([])
    yield server
    server.server.shutdown()


def _run(planner: Planner, *args: str) -> Any:
    return CliRunner().invoke(app, [*args, "--interval", "0.05"], env=planner.env)


def test_trigger_wait_follows_the_run_and_exits_0_when_it_succeeded(planner: Planner) -> None:
    planner.answers[:] = [RUNNING, RUNNING, _answer("succeeded", DONE)]

    result = _run(planner, "sources", "trigger", "prices", "--wait")

    assert result.exit_code == 0, result.output
    assert planner.seen[0] == ("POST", "/api/v1/sources/prices/trigger")
    assert set(planner.seen[1:]) == {("GET", "/api/v1/runs/r-1/progress")} and len(planner.seen) == 4
    assert "documents  2 stored, 1 duplicate, 0 failed of 3" in result.output
    assert "records    5 created, 1 updated, 0 deleted, 0 unchanged; 2 rows rejected" in result.output
    assert "run r-1 of source/prices succeeded" in result.output


@pytest.mark.parametrize("status", ["failed", "partial"])
def test_a_failed_or_partial_run_exits_1_and_says_which_and_why(planner: Planner, status: str) -> None:
    planner.answers[:] = [RUNNING, _answer(status, DONE, error="t-1: HTTP 500 [server]")]

    result = _run(planner, "runs", "watch", "r-1")

    assert result.exit_code == 1, result.output
    assert f"run r-1 of source/prices {status}: t-1: HTTP 500 [server]" in result.output


def test_a_run_still_open_at_the_timeout_exits_1(planner: Planner) -> None:
    planner.answers[:] = [RUNNING]

    result = _run(planner, "runs", "watch", "r-1", "--timeout", "0.3")

    assert result.exit_code == 1, result.output
    assert "run r-1 still enqueued after 0 s (--timeout)" in result.output


def test_an_unreachable_planner_exits_3(planner: Planner) -> None:
    env = planner.env | {"HEADWATER_API_URL": "http://127.0.0.1:9"}  # discard port: nothing listens

    result = CliRunner().invoke(app, ["runs", "watch", "r-1", "--timeout", "0.2"], env=env)

    assert result.exit_code == 3, result.output


def test_without_wait_trigger_prints_the_run_and_does_not_poll(planner: Planner) -> None:
    result = CliRunner().invoke(app, ["sources", "trigger", "prices"], env=planner.env)

    assert result.exit_code == 0 and "run r-1" in result.output
    assert planner.seen == [("POST", "/api/v1/sources/prices/trigger")]


def test_counts_lines_name_every_count_and_the_tasks_done() -> None:
    assert counts_lines(DONE) == [
        "fetched    3 page(s); items 3 fetched, 0 failed of 3",
        "documents  2 stored, 1 duplicate, 0 failed of 3",
        "records    5 created, 1 updated, 0 deleted, 0 unchanged; 2 rows rejected",
        "tasks      2/2 done (partial 1, succeeded 1)",
    ]
