"""``headwater setup | up | down | status``: the local runtime."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.table import Table

from headwater_ops.cli.common import console, err
from headwater_ops.runtime import postgres
from headwater_ops.runtime.binaries import RuntimeNotFoundError, resolve_runtime
from headwater_ops.runtime.procs import PortInUseError, StartError
from headwater_ops.runtime.settings import RuntimeSettings
from headwater_ops.runtime.stack import Stack


def setup() -> None:
    """Find or obtain the Dapr and FerretDB binaries and install the PostgreSQL extensions."""
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


def up() -> None:
    """Start the scheduler, Redis, PostgreSQL + FerretDB, then every app and its sidecar, supervised."""
    try:
        settings = RuntimeSettings()
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
    for ep in info.apps.values():
        table.add_row(ep.app_id, ep.app_url, ep.dapr_url, f"127.0.0.1:{ep.dapr_grpc_port}")
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
    """List the processes of the running stack."""
    stack = Stack(RuntimeSettings(), report=console.print)
    pids = stack.pids()
    if not pids:
        console.print("nothing is running")
        raise typer.Exit(0)
    table = Table("process", "app", "pid", "RSS MB")
    total = 0.0
    for name, pid in sorted(pids.items()):
        rss, app = _rss_mb(pid), _app_id(pid)
        total += rss
        table.add_row(name.split()[0], app, str(pid), f"{rss:.0f}")
    console.print(table)
    console.print(f"total RSS: {total:.0f} MB")
    _print_supervised(stack)


def _print_supervised(stack: Stack) -> None:
    """Restarts of every app and sidecar, from the supervisor's state file."""
    supervised = stack.supervised()
    if not supervised:
        return
    table = Table("app", "process", "state", "pid", "restarts", "last exit", "at", title="supervised")
    for proc in supervised:
        code = proc.get("last_exit_code")
        at = proc.get("last_exit_at")
        table.add_row(
            proc["app_id"],
            proc["role"],
            proc["state"],
            str(proc.get("pid") or "-"),
            str(proc.get("restarts", 0)),
            "-" if code is None else str(code),
            "-" if at is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at)),
        )
    console.print(table)


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


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
