"""fetch: collection-model's fan-out alone — FetchService with the production HTTP adapter
(``AiohttpFetcher``: SSRF guard, getaddrinfo, decoding, retries, semaphore) — over 500 items
against a local stdlib asyncio HTTP/1.1 server (its own process) that answers every request
after 20 ms.

A fresh client process runs the fan-out at concurrency 1, 10 and 50 and reports
items_per_second, the ideal (concurrency / latency), the server's peak in-flight count and
the process's peak RSS. No sidecars, no database: bench_fanout.py measures the full path.

    .venv/bin/python bench/bench_fetch.py            # everything, JSON on stdout
    .venv/bin/python bench/bench_fetch.py --port 8000   # the client alone, against a server there
    .venv/bin/python bench/bench_fetch.py --items 300   # another size; bench/results/ is left alone
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ITEMS = 500
LATENCY_S = 0.020
CONCURRENCY = (1, 10, 50)
RESULTS = Path(__file__).resolve().parent / "results"


# --- the server (its own process) --------------------------------------------------------


def serve(port_out: Any) -> None:
    asyncio.run(_serve(port_out))


async def _serve(port_out: Any) -> None:
    stats = {"in_flight": 0, "max_in_flight": 0, "requests": 0}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b" ", 2)[1]
                if target.startswith(b"/stats"):
                    body = json.dumps(stats).encode()
                    stats.update(max_in_flight=0, requests=0)
                else:
                    stats["in_flight"] += 1
                    stats["requests"] += 1
                    stats["max_in_flight"] = max(stats["max_in_flight"], stats["in_flight"])
                    await asyncio.sleep(LATENCY_S)
                    stats["in_flight"] -= 1
                    body = b'{"target": "%s", "values": [1, 2, 3]}' % target
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body)
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    port_out.send(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


# --- one client (its own process) --------------------------------------------------------


class _Items:
    """The ``ItemSource`` port: the tool's ``structuredContent`` lists ``n`` items."""

    async def call_tool(self, call: Any) -> Any:
        from collection_model.service_layer.ports import ToolResult

        return ToolResult(structured={"items": [{"id": f"i{i:04d}"} for i in range(call.arguments.get("n", ITEMS))]})


class _CountingSink:
    def __init__(self) -> None:
        self.count = 0

    async def emit(self, doc: Any) -> None:
        self.count += 1


class _NoSecrets:
    async def get_secret(self, store: str, key: str) -> str:
        raise LookupError(key)


def _fetch_service() -> tuple[Any, Any]:
    """FetchService on the adapters ``bootstrap.connect`` wires (aiohttp, getaddrinfo), its session."""
    from aiohttp.resolver import ThreadedResolver

    from collection_model.adapters.aiohttp_fetcher import AiohttpFetcher, AiohttpTokenFetcher, new_session
    from collection_model.adapters.clock import SystemClock
    from collection_model.domain.masking import SecretMasker
    from collection_model.service_layer.auth import Authenticator
    from collection_model.service_layer.fetch import FetchService

    resolver = ThreadedResolver()
    session = new_session(resolver)
    fetcher, clock = AiohttpFetcher(session, resolver), SystemClock()
    auth = Authenticator(_NoSecrets(), AiohttpTokenFetcher(fetcher), clock, SecretMasker())
    return FetchService(fetcher, _Items(), auth, clock), session


async def run_client(port: int, items: int = ITEMS) -> dict[str, Any]:
    import aiohttp

    from collection_model.service_layer.fetch import FetchJob
    from headwater.config import IterationSpec, RequestSpec, RetrySpec

    service, session = _fetch_service()
    request = RequestSpec(
        base_url=f"http://127.0.0.1:{port}/item", parameters={"id": "{item.id}"}, allow_private_hosts=["127.0.0.1"]
    )
    figures: dict[str, Any] = {}
    async with session, aiohttp.ClientSession() as stats_client:
        for concurrency in (10, *CONCURRENCY):
            warmup = concurrency == 10 and "warmup" not in figures
            n = 50 if warmup else items
            iteration = IterationSpec(
                foreach="item", source_mcp="bench", source_tool="list", arguments={"n": n}, concurrency=concurrency
            )
            sink = _CountingSink()
            started = time.perf_counter()
            outcome = await service.run(FetchJob("bench", "bench:t", request, RetrySpec(), iteration), sink)
            elapsed = time.perf_counter() - started
            async with stats_client.get(f"http://127.0.0.1:{port}/stats") as response:
                server = await response.json()
            if warmup:
                figures["warmup"] = True
                continue
            assert outcome.fetched == n and sink.count == n, outcome.failures[:3]
            ideal = concurrency / LATENCY_S
            figures[f"c{concurrency}"] = {
                "items_per_second": round(n / elapsed, 1),
                "ideal_items_per_second": round(ideal, 1),
                "efficiency": round(n / elapsed / ideal, 3),
                "server_max_in_flight": server["max_in_flight"],
                "wall_s": round(elapsed, 3),
            }
    figures.pop("warmup")
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return figures


# --- orchestration -----------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, help="run the client alone against a server on this port")
    parser.add_argument("--items", type=int, default=ITEMS)
    args = parser.parse_args()
    if args.port:
        print(json.dumps(asyncio.run(run_client(args.port, args.items))))
        return

    receive, send = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.Process(target=serve, args=(send,), daemon=True)
    server.start()
    try:
        port = receive.recv()
        figures: dict[str, Any] = {"benchmark": "fetch", "items": args.items, "latency_ms": LATENCY_S * 1000}
        out = subprocess.run(
            [sys.executable, __file__, "--port", str(port), "--items", str(args.items)],
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        figures["aiohttp"] = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        server.terminate()
        server.join(5)
    figures["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    if args.items == ITEMS:  # only the reference run is recorded
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "fetch.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
