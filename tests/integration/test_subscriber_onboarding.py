"""A subscriber built from docs/subscribers.md only: its app is the code block of the page, its
scope and its `dapr run` command come from `headwater subscribers add`, as the page says. It
receives the events of `headwater demo`, and every one is valid against schemas/events (with
date-times checked). The same demo stores twelve distinct weather documents, one per region
of the example MCP server (each request carries its region's coordinates)."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from pymongo import AsyncMongoClient

from headwater_ops.runtime.stack import Stack, StackInfo

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def documented_app() -> str:
    """The code block that follows ``<!-- subscriber.py -->`` in docs/subscribers.md."""
    page = (ROOT / "docs" / "subscribers.md").read_text()
    block = page.split("<!-- subscriber.py -->", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    lines = block.splitlines()
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "\n".join(line[indent:] for line in lines) + "\n"


def headwater(stack: Stack, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HEADWATER_INSTANCE": stack.settings.instance,
        "HEADWATER_PORT_OFFSET": str(stack.settings.port_offset),
        "COLUMNS": "400",
    }
    command = [sys.executable, "-m", "headwater_ops.cli.main", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def is_date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not RFC3339.match(value):
            raise ValueError(f"{value!r} is not an RFC 3339 date-time")
        datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        return True

    return Draft202012Validator(schema, format_checker=checker)


@pytest.fixture(scope="module")
def subscriber(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Steps 2-5 of the page: scope, app, `dapr run`, `headwater demo`; yields the events file."""
    folder = tmp_path_factory.mktemp("subscriber")
    (folder / "subscriber.py").write_text(documented_app())
    app_id = f"doc-sub-{uuid.uuid4().hex[:6]}"
    added = headwater(stack, "subscribers", "add", app_id, "--no-save", "--app-port", str(7190 + stack.ports.offset))
    assert added.returncode == 0, added.stdout + added.stderr
    line = next(x.strip() for x in added.stdout.splitlines() if " run --app-id " in x)
    command = shlex.split(line.replace("<your app's command>", f"{sys.executable} subscriber.py"))
    events = folder / "events.jsonl"
    out = (folder / "dapr-run.log").open("w")
    env = {**os.environ, "EVENTS_FILE": str(events)}
    proc = subprocess.Popen(command, cwd=folder, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while "You're up and running" not in (folder / "dapr-run.log").read_text():
            assert proc.poll() is None and time.monotonic() < deadline, (folder / "dapr-run.log").read_text()[-3000:]
            time.sleep(0.5)
        demo = headwater(stack, "demo", "--wait", "60", timeout=240)
        assert demo.returncode == 0, demo.stdout + demo.stderr
        yield events
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def received(events: Path, wanted: set[str], timeout: float = 60) -> list[dict[str, Any]]:
    """The events the subscriber wrote, once every type in ``wanted`` is among them (or at timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = events.read_text().splitlines() if events.exists() else []
        found = [json.loads(x) for x in lines if x.strip()]
        if wanted <= {e.get("type") for e in found} or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def test_a_subscriber_from_the_docs_receives_valid_demo_events(subscriber: Path) -> None:
    schemas = {
        p.name.removesuffix(".schema.json"): validator(json.loads(p.read_text()))
        for p in sorted((ROOT / "schemas" / "events").glob("*.schema.json"))
    }
    events = received(subscriber, {"document.stored", "records.changed"})
    assert {e["type"] for e in events} >= {"document.stored", "records.changed"}, [e["type"] for e in events]
    demo_sources = {p.stem for p in (ROOT / "config" / "source-configs").glob("*.yaml")}
    assert demo_sources & {e["subject"] for e in events}, "no event of the demo's sources arrived"
    for event in events:
        data = event["data"]
        assert event["specversion"] == "1.0" and event["topic"] == "ingestion-events"
        assert event["pubsubname"] == "pubsub" and event["source"] in ("worker", "collection-model")
        assert (event["type"], event["id"], event["subject"]) == (
            data["type"],
            data["idempotency_key"],
            data["source_id"],
        )
        problems = [e.message for e in schemas[data["type"]].iter_errors(data)]
        assert not problems, f"{data['type']} {data['idempotency_key']}: {problems}"


async def test_the_demo_stores_twelve_distinct_weather_documents(
    subscriber: Path, runtime: StackInfo, mongo: AsyncMongoClient
) -> None:
    db = mongo[runtime.mongodb_database]
    docs = [d async for d in db["raw_documents"].find({"source_id": "weather-api"})]
    regions = sorted(d["linkage"]["region"]["id"] for d in docs)
    assert regions == [f"r{n:02d}" for n in range(1, 13)], regions
    assert len({d["content_hash"] for d in docs}) == 12, "each region's forecast is its own document"
    assert [d["status"] for d in docs] == ["processed"] * 12, "none is a duplicate or failed"
