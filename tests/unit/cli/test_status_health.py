"""``headwater status``: what each health check sends and concludes, and how a down app is shown."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
from rich.console import Console

from headwater_ops.cli.common import human_duration
from headwater_ops.cli.health import Check, app_checks, check_all, down_lines, health_table
from headwater_ops.runtime.render import AppEndpoint


def _endpoint(app_id: str, base: int) -> AppEndpoint:
    return AppEndpoint(app_id, base, base + 1, base + 2, base + 3, base + 4, Path("."))


def _render(table: object) -> str:
    console = Console(width=200, record=True)
    console.print(table)
    return console.export_text()


def test_each_app_is_checked_on_its_healthz_and_its_sidecar_on_v1_healthz() -> None:
    checks = app_checks([_endpoint("planner", 8100), _endpoint("worker", 8200)])

    assert [(c.name, c.role, c.url, c.expected) for c in checks] == [
        ("planner", "app", "http://127.0.0.1:8100/healthz", 200),
        ("planner", "daprd", "http://127.0.0.1:8101/v1.0/healthz", 204),
        ("worker", "app", "http://127.0.0.1:8200/healthz", 200),
        ("worker", "daprd", "http://127.0.0.1:8201/v1.0/healthz", 204),
    ]


def test_a_refused_connection_or_a_wrong_status_is_down_and_named() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.port == 8200:
            raise httpx.ConnectError("refused", request=request)
        if request.url.port == 8101:
            return httpx.Response(500)
        assert "authorization" not in request.headers and "dapr-api-token" not in request.headers
        return httpx.Response(204 if request.url.path.startswith("/v1.0") else 200)

    checks = app_checks([_endpoint("planner", 8100), _endpoint("worker", 8200)])
    supervised = {("worker", "app"): {"pid": None, "state": "waiting", "restarts": 3}}
    with httpx.Client(transport=httpx.MockTransport(answer)) as http:
        rows = check_all(checks, http, lambda c: supervised.get((c.name, c.role), {"pid": 4242, "state": "running"}))

    assert [(h.check.name, h.check.role, h.ok, h.answer) for h in rows] == [
        ("planner", "app", True, "HTTP 200"),
        ("planner", "daprd", False, "HTTP 500"),
        ("worker", "app", False, "connection refused"),
        ("worker", "daprd", True, "HTTP 204"),
    ]
    assert down_lines(rows) == [
        "planner daprd is down: http://127.0.0.1:8101/v1.0/healthz HTTP 500; supervisor: running",
        "worker app is down: http://127.0.0.1:8200/healthz connection refused; supervisor: waiting",
    ]
    text = _render(health_table(rows, rss=lambda pid: 61.4 if pid else None))
    worker_app = next(line for line in text.splitlines() if "8200" in line)
    assert "DOWN (connection refused)" in worker_app and "waiting" in worker_app and "3" in worker_app
    planner_app = next(line for line in text.splitlines() if "8100/healthz" in line)
    assert "up (HTTP 200)" in planner_app and "4242" in planner_app and "61" in planner_app


def test_a_tcp_check_is_up_while_the_port_accepts() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        with httpx.Client() as http:
            (up,) = check_all([Check("redis", "infra", f"127.0.0.1:{port}", port=port)], http)
    with httpx.Client() as http:
        (down,) = check_all([Check("redis", "infra", f"127.0.0.1:{port}", port=port)], http)

    assert (up.ok, up.answer) == (True, "port open")
    assert (down.ok, down.answer) == (False, "port closed")


def test_durations_read_as_an_operator_says_them() -> None:
    assert [human_duration(s) for s in (None, 45, 250, 7500, 3 * 86400 + 4 * 3600 + 5, -30)] == [
        "-", "45 s", "4 min 10 s", "2 h 5 min", "3 d 4 h", "-30 s"
    ]  # fmt: skip
