"""A secret canary (issue 14): a unique API key, new each session (``SECRET_CANARY`` of the
conftest, the secret ``e2e``'s key ``canary_key``), is used by four sources served by a local
API that records what it receives:

- two that work, with the key in a header and in the query string (records are stored);
- a hostile one that answers 401 and one that answers 500 (retried, then failed, over two
  windows), both with a body that echoes the key, its query and its headers back — so the error
  paths run: retries, run errors, failed windows, task.failed events, ``sources status``.

The key must then be found in the requests to those sources only — never in a log file or
any other file of the instance (apps, daprd, supervisor, Redis, PostgreSQL, FerretDB, the
scheduler), a document of the MongoDB database, a Redis key or stream entry, an event the
example subscriber received, a span the services exported (the session's OTLP receiver), or the
output of the CLI (tables and JSON). It is searched as two
random halves, so a percent-encoded or otherwise quoted copy counts too. ``pytest -s`` prints
the places checked with their counts.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from bson import json_util
from integration_support import FakeApi, cli, until  # type: ignore[import-not-found]
from pymongo import AsyncMongoClient

from headwater_ops.runtime.stack import Stack, StackInfo

pytestmark = pytest.mark.integration

SECRET_REF = "e2e:canary_key"
HEADER = "X-Canary-Key"
QUERY_PARAM = "key"
ITEMS = [{"sku": f"C-{n}", "price": n} for n in range(1, 4)]  # two pages of two
DONE = ("succeeded", "partial", "failed")
QUERY_TIME = "%Y-%m-%dT%H:%M:%SZ"


def read_canary(runtime: StackInfo) -> str:
    """The key the sidecars loaded: what the conftest wrote into the instance's secrets.json."""
    assert runtime.secrets_file is not None
    value = json.loads(runtime.secrets_file.read_text())["e2e"]["canary_key"]
    assert isinstance(value, str) and len(value) >= 32, "the conftest's SECRET_CANARY is missing"
    return value


@dataclass
class Search:
    """Where the canary was looked for, with counts, and where it was found."""

    needles: tuple[bytes, ...] = field(repr=False)
    canary: str = field(repr=False)
    rows: list[tuple[str, str, int]] = field(default_factory=list)
    found: list[tuple[str, str]] = field(default_factory=list)

    def hits(self, text: str | bytes) -> bool:
        data = text.encode() if isinstance(text, str) else text
        return any(n in data for n in self.needles)

    def scan(self, place: str, where: str, text: str | bytes) -> None:
        if self.hits(text):
            data = text.decode(errors="replace") if isinstance(text, bytes) else text
            at = min((i for n in self.needles if (i := data.find(n.decode())) >= 0), default=0)
            shown = data[max(0, at - 160) : at + 160].replace(self.canary, "<CANARY>")
            for n in self.needles:
                shown = shown.replace(n.decode(), "<canary-part>")
            self.found.append((f"{place}: {where}", shown))

    def row(self, place: str, counted: str, before: int) -> None:
        self.rows.append((place, counted, len(self.found) - before))

    def table(self) -> str:
        width = max(len(p) for p, _, _ in self.rows)
        lines = [f"{'place':<{width}}  checked  →  hits"]
        lines += [f"{p:<{width}}  {c}  →  {h}" for p, c, h in self.rows]
        return "\n".join(lines)


def source(sid: str, base: str, path: str, *, query: bool, windows: datetime | None = None) -> str:
    auth = f"auth_in: query\n    auth_query_param: {QUERY_PARAM}" if query else f"auth_header: {HEADER}"
    window = ""
    params = ""
    if windows is not None:
        window = f'  window: {{cadence: 1h, start: "{windows.isoformat()}", slice: 1h, max_attempts: 3}}\n'
        params = '    parameters: {from: "{window.from}", to: "{window.to}"}\n'
    return f"""\
source_id: {sid}
ingestion:
  mode: scheduled_pull
  schedule: "0 3 1 1 *"
  request:
    base_url: {base}{path}
{params}    auth_type: api_key
    secret_key: {SECRET_REF}
    {auth}
    allow_private_hosts: ["127.0.0.1"]
    pagination: {{type: page_number, size_param: per_page, page_size: 2, records_path: items}}
  retry: {{max_attempts: 3, initial_seconds: 0.2, max_seconds: 0.5}}
{window}parse: {{format: json, records_path: items}}
store: {{key: [sku]}}
"""


def sent_key(query: dict[str, str], headers: dict[str, str], in_query: bool) -> str | None:
    return query.get(QUERY_PARAM) if in_query else headers.get(HEADER)


def catalogue(key: str, in_query: bool) -> Any:
    def route(query: dict[str, str], headers: dict[str, str]) -> tuple[int, Any]:
        if sent_key(query, headers, in_query) != key:
            return 401, {"error": "bad key"}
        page, size = int(query.get("page", "1")), int(query.get("per_page", "2"))
        return 200, {"items": ITEMS[(page - 1) * size : page * size]}

    return route


def hostile(key: str, status: int) -> Any:
    """A misbehaving API: it refuses or fails and echoes the key, the query and the headers."""

    def route(query: dict[str, str], headers: dict[str, str]) -> tuple[int, Any]:
        echo = f"key {key} refused" if status == 401 else f"internal error while serving key={key}"
        return status, {"error": echo, "you_sent": {"query": query, "headers": headers}, "key": key}

    return route


async def test_the_api_key_is_found_only_in_the_requests_to_its_source(
    stack: Stack,
    runtime: StackInfo,
    tmp_path: Path,
    mongo: AsyncMongoClient,
    http: httpx.AsyncClient,
    otlp: Any,
) -> None:
    canary = read_canary(runtime)
    halves = canary.removeprefix("cnry-").rstrip("/=").split("+")
    search = Search(tuple(h.encode() for h in halves if len(h) >= 12), canary)
    assert len(search.needles) == 2, "the canary must hold two random halves"
    assert runtime.secrets_file and search.hits(runtime.secrets_file.read_bytes())  # the search does find it
    db = mongo[runtime.mongodb_database]
    tag = uuid.uuid4().hex[:6]
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    sources = {  # sid: (path, key in the query, windows)
        f"canary-hdr-{tag}": ("/ok-header", False, None),
        f"canary-qry-{tag}": ("/ok-query", True, None),
        f"canary-401-{tag}": ("/hostile-401", True, None),
        f"canary-500-{tag}": ("/hostile-500", False, start),
    }
    outputs: list[tuple[str, subprocess.CompletedProcess[str]]] = []

    def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
        result = cli(stack, *args)
        outputs.append((" ".join(args), result))
        return result

    with FakeApi() as api:
        api.routes["/ok-header"] = catalogue(canary, in_query=False)
        api.routes["/ok-query"] = catalogue(canary, in_query=True)
        api.routes["/hostile-401"] = hostile(canary, 401)
        api.routes["/hostile-500"] = hostile(canary, 500)
        for sid, (route, in_query, windows) in sources.items():
            file = tmp_path / f"{sid}.yaml"
            file.write_text(source(sid, api.url, route, query=in_query, windows=windows))
            applied = run_cli("sources", "apply", "-f", str(file))
            assert applied.returncode == 0, applied.stdout + applied.stderr
            triggered = run_cli("sources", "trigger", sid)
            assert triggered.returncode == 0, triggered.stdout + triggered.stderr

        async def finished() -> list[dict[str, Any]] | None:
            runs = await db["runs"].find({"source_id": {"$in": list(sources)}}).to_list()
            done = [r for r in runs if r["status"] in DONE]
            return done if {r["source_id"] for r in done} == set(sources) else None

        runs = await until(finished, timeout=90)
        assert runs, await db["runs"].find({"source_id": {"$in": list(sources)}}).to_list()
        status = {r["source_id"]: r["status"] for r in runs}
        for sid in list(sources)[:2]:

            async def stored(sid: str = sid) -> bool:
                return await db["records"].count_documents({"source_id": sid}) == len(ITEMS)

            assert await until(stored), f"{sid}: records never arrived ({status[sid]})"
            assert status[sid] == "succeeded", status
        for sid in list(sources)[2:]:
            assert status[sid] == "failed", status

        # the failures reached every error path: run errors, windows, task.failed events
        subscriber = runtime.apps["event-subscriber"].invoke_url

        async def failed_events() -> list[Any] | None:
            got = (await http.get(f"{subscriber}/events", params={"type": "task.failed"})).json()
            mine = [e for e in got if e.get("source_id") in list(sources)[2:]]
            return mine if {e["source_id"] for e in mine} == set(list(sources)[2:]) else None

        assert await until(failed_events), "no task.failed event for the failing sources"
        by_sid = {r["source_id"]: r for r in runs}
        assert "401" in str(by_sid[f"canary-401-{tag}"].get("error")), by_sid[f"canary-401-{tag}"]
        assert "500" in str(by_sid[f"canary-500-{tag}"].get("error")), by_sid[f"canary-500-{tag}"]

        # the CLI, as an operator would read what happened
        run_cli("sources", "list")
        for sid in sources:
            run_cli("sources", "status", sid)
            run_cli("sources", "status", sid, "-o", "json")
            run_cli("runs", "list", "--source", sid, "-o", "json")
            run_cli("sources", "get", sid)
        for run in runs:
            run_cli("runs", "get", run["_id"])
            run_cli("runs", "get", run["_id"], "-o", "json")
        for fmt in ("table", "json"):
            run_cli("runs", "list", "-o", fmt)
            run_cli("summary", "-o", fmt)
            run_cli("audit", "-o", fmt)
            run_cli("dlq", "list", "--all", "-o", fmt)
        failing = json.loads(run_cli("sources", "status", f"canary-500-{tag}", "-o", "json").stdout)
        assert failing.get("failing_windows") or failing.get("dead_windows"), failing

        requests = list(api.requests)

    # ------------------------------------------------------------------ the one place it belongs
    routes = {route: in_query for route, in_query, _ in sources.values()}
    for request in requests:
        in_query = routes[request["path"]]
        assert sent_key(request["query"], request["headers"], in_query) == canary, request["path"]
        elsewhere = request["headers"] if in_query else request["query"]
        assert not search.hits(json.dumps(elsewhere)), f"the key went out in the wrong place: {request['path']}"
    per_path = {p: sum(r["path"] == p for r in requests) for p in routes}
    assert per_path["/hostile-500"] >= 6, per_path  # two windows, three attempts each
    search.rows.append(("fake API: requests carrying the key (expected)", f"{len(requests)} requests", len(requests)))

    # ------------------------------------------------------------------ nowhere else
    before = len(search.found)
    names = await db.list_collection_names()
    count = 0
    for name in sorted(names):
        async for doc in db[name].find({}):
            count += 1
            search.scan("mongo", f"{name} {doc.get('_id')!r}", json_util.dumps(doc))
    search.row("mongo: every document of every collection", f"{len(names)} collections, {count} docs", before)

    before = len(search.found)
    keys, entries = scan_redis(runtime, search)
    search.row("redis: every key (streams, strings, hashes, lists, sets)", f"{keys} keys, {entries} entries", before)

    before = len(search.found)
    events = (await http.get(f"{subscriber}/events")).json()
    for event in events:
        search.scan("event-subscriber", f"{event.get('type')} {event.get('source_id')}", json.dumps(event))
    mine = sum(e.get("source_id") in sources for e in events)
    search.row("events received by event-subscriber", f"{len(events)} events ({mine} of these sources)", before)

    before = len(search.found)
    for command, result in outputs:
        search.scan("cli", command, result.stdout + result.stderr)
    search.row("CLI output (stdout + stderr, table and -o json)", f"{len(outputs)} commands", before)

    await asyncio.sleep(2)  # apps write unbuffered; daprd, the supervisor and the span exporters batch
    before = len(search.found)
    with otlp.lock:
        spans = list(otlp.spans)
    for span in spans:
        search.scan("span", f"{span.service} {span.name}", repr(span))
    mine = sum(1 for s in spans if s.service == "collection-model" and s.name in ("GET", "POST"))
    search.row("trace spans exported over OTLP", f"{len(spans)} spans ({mine} HTTP client spans)", before)
    log_files = sorted({p for p in (runtime.instance_dir / "logs").glob("*.log")} | set(runtime.logs.values()))
    log_files += [p for ep in runtime.apps.values() for p in sorted((ep.app_dir / ".dapr" / "logs").glob("*.log"))]
    groups: dict[str, list[Path]] = {"log files (apps, daprd, supervisor, redis, postgres, ferretdb, scheduler)": []}
    for path in log_files:
        if path.is_file():
            groups[next(iter(groups))].append(path)
    others: dict[str, list[Path]] = {}
    for path in sorted(runtime.instance_dir.rglob("*")):
        if not path.is_file() or path in log_files or path == runtime.secrets_file:
            continue
        part = path.relative_to(runtime.instance_dir).parts[0]
        others.setdefault(part if part in ("postgres", "redis", "scheduler", "ferretdb") else "other", []).append(path)
    for part, files in sorted(others.items()):
        groups[f"instance files: {part}/ (raw bytes)" if part != "other" else "instance files: the rest"] = files
    for label, files in groups.items():
        before = len(search.found)
        size = 0
        for path in files:
            try:
                data = path.read_bytes()
            except OSError:
                continue  # a file removed while walking (PostgreSQL's temporary files)
            size += len(data)
            search.scan("file", str(path.relative_to(path.anchor)), data)
        search.row(label, f"{len(files)} files, {size / 1e6:.1f} MB", before)

    print("\nsecret canary: where the API key was looked for")
    print(search.table())
    for where, snippet in search.found:
        print(f"\nLEAK {where}\n  …{snippet}…")
    leaks = [where for where, _ in search.found]  # not the Search itself: pytest would show the key
    assert not leaks, f"the API key leaked into: {leaks}"


def scan_redis(runtime: StackInfo, search: Search) -> tuple[int, int]:
    """Every key of the instance's Redis, read with redis-cli: (keys, entries)."""
    redis_cli = shutil.which("redis-cli")
    if redis_cli is None:
        pytest.fail("redis-cli is missing: install Debian's redis-tools (or redis-server)", pytrace=False)
    host, _, port = runtime.redis_address.rpartition(":")

    def call(*args: str) -> bytes:
        result = subprocess.run(
            [redis_cli, "-h", host, "-p", port, *args], capture_output=True, timeout=60, env={**os.environ}
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    keys = [k for k in call("--scan").decode(errors="replace").splitlines() if k]
    entries = 0
    readers = {  # kind: (read everything, count entries)
        "stream": (("XRANGE", "-", "+"), ("XLEN",)),
        "string": (("GET",), ("STRLEN",)),
        "hash": (("HGETALL",), ("HLEN",)),
        "list": (("LRANGE", "0", "-1"), ("LLEN",)),
        "set": (("SMEMBERS",), ("SCARD",)),
        "zset": (("ZRANGE", "0", "-1", "WITHSCORES"), ("ZCARD",)),
    }
    for key in keys:
        search.scan("redis", f"key name {key}", key)
        kind = call("TYPE", key).decode().strip()
        if kind not in readers:
            continue
        (read, *args), (size,) = readers[kind]
        search.scan("redis", f"{kind} {key}", call(read, key, *args))
        entries += 1 if kind == "string" else int(call(size, key).strip() or 0)
        if kind == "stream":  # the consumer groups' pending entries and names
            search.scan("redis", f"groups of {key}", call("XINFO", "GROUPS", key))
    return len(keys), entries
