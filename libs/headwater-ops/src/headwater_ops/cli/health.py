"""Health checks of ``headwater status``: every app (``/healthz``), every sidecar (``/v1.0/healthz``)
and the infrastructure ports, probed in parallel, with the supervisor's view of each process.

Both health URLs answer without a token (an app port refuses everything else without the app's
token, a sidecar without ``dapr-api-token``), so the probes send none.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.table import Table

from headwater_ops.runtime.render import AppEndpoint

__all__ = ["Check", "Health", "app_checks", "check_all", "down_lines", "health_table", "probe", "rss_mb"]

APP_HEALTH, SIDECAR_HEALTH = ("/healthz", 200), ("/v1.0/healthz", 204)


@dataclass(frozen=True)
class Check:
    """One thing to probe: ``url`` answering ``expected`` (HTTP), or a TCP ``port`` accepting."""

    name: str
    role: str
    url: str
    expected: int | None = None
    port: int | None = None


@dataclass(frozen=True)
class Health:
    """The outcome of one check, with the supervisor's record of the process (apps and sidecars)."""

    check: Check
    ok: bool
    answer: str
    process: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> int | None:
        pid = self.process.get("pid")
        return int(pid) if pid else None


def app_checks(apps: Iterable[AppEndpoint]) -> list[Check]:
    """The app's ``/healthz`` (200) and its sidecar's ``/v1.0/healthz`` (204), per app."""
    checks = []
    for ep in apps:
        checks.append(Check(ep.app_id, "app", ep.app_url + APP_HEALTH[0], APP_HEALTH[1]))
        checks.append(Check(ep.app_id, "daprd", ep.dapr_url + SIDECAR_HEALTH[0], SIDECAR_HEALTH[1]))
    return checks


def probe(check: Check, client: httpx.Client) -> tuple[bool, str]:
    """(healthy, what answered): the HTTP status, or why nothing did."""
    if check.port is not None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            code = sock.connect_ex(("127.0.0.1", check.port))
        return code == 0, "port open" if code == 0 else "port closed"
    try:
        response = client.get(check.url)
    except httpx.HTTPError as exc:
        return False, _reason(exc)
    return response.status_code == check.expected, f"HTTP {response.status_code}"


def _reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "connection refused"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    return type(exc).__name__


def check_all(
    checks: Sequence[Check], client: httpx.Client, processes: Callable[[Check], dict[str, Any]] = lambda _: {}
) -> list[Health]:
    """Every check at once (a dead port costs its timeout once, not once per check)."""
    with ThreadPoolExecutor(max_workers=max(1, len(checks))) as pool:
        answers = list(pool.map(lambda c: probe(c, client), checks))
    return [Health(c, ok, answer, processes(c)) for c, (ok, answer) in zip(checks, answers, strict=True)]


def rss_mb(pid: int | None) -> float | None:
    if not pid:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def health_table(rows: Sequence[Health], rss: Callable[[int | None], float | None] = rss_mb) -> Table:
    table = Table("APP", "PROCESS", "HEALTH", "URL", "PID", "RSS MB", "STATE", "RESTARTS", title="health")
    for h in rows:
        mb = rss(h.pid)
        health = f"[green]up[/] ({h.answer})" if h.ok else f"[bold red]DOWN[/] ({h.answer})"
        table.add_row(
            h.check.name,
            h.check.role,
            health,
            h.check.url,
            str(h.pid or "-"),
            "-" if mb is None else f"{mb:.0f}",
            h.process.get("state", "-"),
            str(h.process.get("restarts", "-")),
        )
    return table


def down_lines(rows: Sequence[Health]) -> list[str]:
    """One line per check that failed: what, where, what answered, and the supervisor's state."""
    lines = []
    for h in rows:
        if h.ok:
            continue
        state = f"; supervisor: {h.process['state']}" if h.process.get("state") else ""
        lines.append(f"{h.check.name} {h.check.role} is down: {h.check.url} {h.answer}{state}")
    return lines
