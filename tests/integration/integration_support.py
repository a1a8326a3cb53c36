"""Support for the integration tests: the CLI runner and a local HTTP server standing in for external APIs in the integration tests.

It records what it received (headers, in-flight concurrency) and can misbehave on purpose:
latency, a 500 or a 429 with Retry-After before answering.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict
from typing import Any
from urllib.parse import parse_qs, urlsplit

from headwater.runtime.stack import Stack

__all__ = ["FakeApi", "cli"]


class FakeApi:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests: list[dict[str, Any]] = []
        self.failures_left: dict[str, list[int]] = defaultdict(list)
        self.routes: dict[str, Any] = {}
        self.delay = 0.0
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                api._serve(self)

            def log_message(self, *_: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeApi:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _serve(self, h: http.server.BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.requests.append({"path": parts.path, "query": query, "headers": dict(h.headers)})
            planned = self.failures_left[parts.path].pop(0) if self.failures_left[parts.path] else None
        try:
            time.sleep(self.delay)
            if planned is not None:
                body = b'{"error": "try later"}'
                h.send_response(planned)
                if planned == 429:
                    h.send_header("Retry-After", "1")
            else:
                route = self.routes.get(parts.path)
                status, payload = route(query, dict(h.headers)) if callable(route) else (404, {"error": "no route"})
                body = json.dumps(payload).encode()
                h.send_response(status)
            h.send_header("content-type", "application/json")
            h.send_header("content-length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
        finally:
            with self.lock:
                self.in_flight -= 1


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the ``headwater`` CLI against a test stack, as an operator would."""
    planner = stack.apps()["planner"]
    env = {**os.environ, "HEADWATER_API_URL": f"{planner.dapr_url}/v1.0/invoke/planner/method",
           "HEADWATER_API_TOKEN": stack.api_token(), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "headwater.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=60)
