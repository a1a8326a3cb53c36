"""Support for the integration tests: the CLI runner, and a local HTTP server standing in for
external APIs.

It records what it received (headers, in-flight concurrency) and can misbehave on purpose:
latency, a 500 or a 429 with Retry-After before answering.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict
from typing import Any

from aiohttp import web

from headwater_ops.runtime.stack import Stack

__all__ = ["FakeApi", "cli", "until"]


class FakeApi:
    """An asyncio (aiohttp) server on its own thread and loop, so hundreds of slow concurrent
    requests cost nothing (a thread-per-connection server became the bottleneck in benches)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests: list[dict[str, Any]] = []
        self.failures_left: dict[str, list[int]] = defaultdict(list)
        self.routes: dict[str, Any] = {}
        self.delay = 0.0
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._serve_forever()), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeApi:
        self.thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake API did not start")
        return self

    def __exit__(self, *_: object) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(10)

    async def _serve_forever(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        started = time.monotonic()
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            record = {"path": request.path, "query": query, "headers": dict(request.headers), "start": started}
            self.requests.append(record)
            planned = self.failures_left[request.path].pop(0) if self.failures_left[request.path] else None
        try:
            await asyncio.sleep(self.delay)
            if planned is not None:
                headers = {"Retry-After": "1"} if planned == 429 else {}
                return web.json_response({"error": "try later"}, status=planned, headers=headers)
            route = self.routes.get(request.path)
            status, payload = route(query, dict(request.headers)) if callable(route) else (404, {"error": "no route"})
            return web.json_response(payload, status=status)
        finally:
            with self.lock:
                self.in_flight -= 1
                record["end"] = time.monotonic()

    def spans(self) -> list[tuple[float, float]]:
        """(start, end) of every finished request, monotonic seconds."""
        with self.lock:
            return [(r["start"], r["end"]) for r in self.requests if "end" in r]


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the ``headwater`` CLI against a test stack, as an operator would."""
    planner = stack.apps()["planner"]
    env = {
        **os.environ,
        "HEADWATER_API_URL": f"{planner.dapr_url}/v1.0/invoke/planner/method",
        "HEADWATER_API_TOKEN": stack.api_token(),
        "DAPR_API_TOKEN": stack.dapr_api_token() or "",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "headwater_ops.cli.main", *args], capture_output=True, text=True, env=env, timeout=60
    )


async def until(check: Any, timeout: float = 40.0, interval: float = 0.4) -> Any:
    """Await ``check()`` until it returns something truthy (returned) or ``timeout`` passes (then
    its last value, so the caller's assertion shows what was there)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(interval)
