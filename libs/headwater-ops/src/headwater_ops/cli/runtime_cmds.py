"""``headwater setup | up | down | status``: the local runtime (``status``: exit 0 all healthy, 1 anything down)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.table import Table

from headwater_ops.cli.common import EXIT_INVALID, console, err, fail
from headwater_ops.cli.health import Check, app_checks, check_all, down_lines, health_table, rss_mb
from headwater_ops.runtime import postgres
from headwater_ops.runtime.binaries import RuntimeNotFoundError, resolve_runtime
from headwater_ops.runtime.procs import PortInUseError, StartError
from headwater_ops.runtime.replicas import parse_replicas
from headwater_ops.runtime.sentry import DAPR_VERSION, SentryError, sentry_binary
from headwater_ops.runtime.settings import RuntimeSettings
from headwater_ops.runtime.stack import Stack


def setup() -> None:
    """Find or obtain the Dapr and FerretDB binaries (and build Dapr Sentry), install the PostgreSQL extensions."""
    started = time.monotonic()
    settings = RuntimeSettings()
    try:
        rt = resolve_runtime(settings, lambda msg: console.print(f"  {msg}"))
    except RuntimeNotFoundError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"runtime source: [bold]{rt.source}[/]")
    table = Table("binary", "version", "path")
    versions = rt.versions()
    for name in ("dapr", "daprd", "scheduler", "ferretdb"):
        table.add_row(name, versions[name], str(getattr(rt, name)))
    try:
        table.add_row("sentry", DAPR_VERSION, str(sentry_binary(settings, lambda msg: console.print(f"  {msg}"))))
    except SentryError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    console.print(table)
    console.print(f"DAPR_RUNTIME_PATH (slim layout): {rt.slim_dir}")
    if rt.pg_extensions is not None:
        try:
            changed = postgres.install_extensions(rt.pg_extensions)
        except postgres.PostgresError as exc:
            err.print(f"[red]error:[/] {exc}")
            raise typer.Exit(1) from exc
        console.print(
            "PostgreSQL extensions: " + (f"installed {len(changed)} file(s)" if changed else "already installed")
        )
    elif not postgres.documentdb_installed():
        err.print(
            "[yellow]warning:[/] DocumentDB is not installed in PostgreSQL and this source does not "
            "carry it; FerretDB will not start (set MONGODB_URI to use a real MongoDB)"
        )
    console.print(f"runtime ready in {time.monotonic() - started:.1f}s")


def up(
    replicas: Annotated[
        list[str] | None,
        typer.Option("--replicas", help="APP=N: run N replicas of collection-model or worker (repeatable)"),
    ] = None,
) -> None:
    """Start Sentry, the scheduler, Redis, PostgreSQL + FerretDB, then every app and its sidecar, supervised."""
    try:
        settings = RuntimeSettings(replicas=parse_replicas(replicas)) if replicas else RuntimeSettings()
    except ValueError as exc:  # e.g. HEADWATER_PORT_OFFSET beyond the ephemeral-range limit
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    stack = Stack(settings, report=lambda msg: console.print(f"  {msg}"))
    try:
        info = stack.up()
    except (StartError, PortInUseError, RuntimeNotFoundError, postgres.PostgresError, ValueError) as exc:
        err.print(f"[red]error:[/] {exc}")
        stack.down(quiet=True)
        raise typer.Exit(1) from exc
    table = Table("app", "app URL", "sidecar HTTP", "sidecar gRPC", title="Headwater is running")
    for ep in [*info.apps.values(), *info.replicas]:
        table.add_row(ep.name, ep.app_url, ep.dapr_url, f"127.0.0.1:{ep.dapr_grpc_port}")
    console.print(table)
    console.print(f"MongoDB:   {info.mongodb_uri} (database {info.mongodb_database})")
    console.print(f"Redis:     {info.redis_address}    scheduler: {info.scheduler_address}")
    console.print(f"secrets:   {info.secrets_file}")
    console.print("logs:")
    for name, path in info.logs.items():
        console.print(f"  {name:<28} {path}")
    console.print("stop with: make down")


def down() -> None:
    """Stop everything `up` started (also after a crash)."""
    Stack(RuntimeSettings(), report=console.print).down()


def status() -> None:
    """Health of every app (``/healthz``), sidecar (``/v1.0/healthz``) and infrastructure port, with
    URLs, pids, RSS and the supervisor's restarts; exits 1 when anything is down or nothing runs."""
    stack = Stack(RuntimeSettings(), report=console.print)
    pids = stack.pids()
    if not pids:
        raise fail("nothing is running (start it with `make up`)")
    supervised = {(p["app_id"], p["role"]): p for p in stack.supervised()}
    checks = app_checks(stack.apps().values()) + _infrastructure_checks(stack)
    with httpx.Client(timeout=2.0) as http:
        rows = check_all(checks, http, lambda c: supervised.get((c.name, c.role), {}))
    console.print(health_table(rows))
    app_pids = {h.pid for h in rows if h.pid}
    _print_processes({name: pid for name, pid in pids.items() if pid not in app_pids}, app_pids)
    down = down_lines(rows)
    if not supervised:
        down.append("the supervisor is not running: nothing restarts a process that exits")
    for line in down:
        err.print(f"[bold red]DOWN[/] {line}", highlight=False, soft_wrap=True)
    if down:
        raise typer.Exit(EXIT_INVALID)
    console.print(f"[green]all {len(rows)} checks healthy[/]")


def _infrastructure_checks(stack: Stack) -> list[Check]:
    settings, ports = stack.settings, stack.ports
    checks = [
        Check("scheduler", "infra", f"http://127.0.0.1:{ports.scheduler_healthz}/healthz", 200),
        Check("redis", "infra", f"127.0.0.1:{ports.redis}", port=ports.redis),
    ]
    if (stack.run_dir / "sentry.pid").exists():  # a stack started before the sentry existed has none
        checks.append(Check("sentry", "infra", f"http://127.0.0.1:{ports.sentry_healthz}/healthz", 200))
    if not settings.mongodb_uri:
        checks.append(Check("postgresql", "infra", f"127.0.0.1:{ports.postgres}", port=ports.postgres))
        checks.append(Check("ferretdb", "infra", f"127.0.0.1:{ports.ferretdb}", port=ports.ferretdb))
    return checks


def _print_processes(others: dict[str, int], app_pids: set[int]) -> None:
    """The processes besides the apps and sidecars, and the RSS of everything."""
    table = Table("process", "role", "pid", "RSS MB", title="other processes")
    for name, pid in sorted(others.items()):
        table.add_row(name.split()[0], _app_id(pid), str(pid), f"{rss_mb(pid) or 0:.0f}")
    console.print(table)
    total = sum(rss_mb(pid) or 0 for pid in {*others.values(), *app_pids})
    console.print(f"total RSS: {total:.0f} MB")


def _app_id(pid: int) -> str:
    """The app a process serves: APP_ID for apps, --app-id for sidecars."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return ""
    if b"--app-id" in argv and argv.index(b"--app-id") + 1 < len(argv):
        return argv[argv.index(b"--app-id") + 1].decode()
    if b"demo_data" in argv:
        return "demo-data"
    if b"headwater_ops.runtime.supervisor" in argv:
        return "(supervisor)"
    found = [e.split(b"=", 1)[1].decode() for e in environ if e.startswith(b"APP_ID=")]
    return found[0] if found else ""
