"""``headwater sources …``: validate, apply, list, get, diff, delete, trigger."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table

from headwater.config import ConfigError, SourceConfig, dump_source_config, load_source_configs
from headwater_ops.cli.common import (
    EXIT_INVALID,
    EXIT_UNREACHABLE,
    ApiUrl,
    Output,
    OutputOpt,
    Token,
    client,
    console,
    err,
    fail,
    handle,
    print_data,
)
from headwater_ops.cli.run_watch import Interval, Timeout, Watch
from headwater_ops.cli.source_batches import BATCH_SIZE, PAGE_ALL, apply_batches, apply_line, pages

app = typer.Typer(help="Manage source configs.", no_args_is_help=True)

Paths = Annotated[list[Path], typer.Argument(help="YAML files or folders", show_default=False)]
FileOpt = Annotated[
    list[Path], typer.Option("-f", "--filename", help="YAML file or folder (repeatable)", show_default=False)
]


def _expand(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        elif path.exists():
            files.append(path)
        else:
            raise fail(f"{path}: no such file or folder")
    if not files:
        raise fail(f"no YAML files in {', '.join(map(str, paths))}")
    return files


def _load(paths: list[Path]) -> list[SourceConfig]:
    """Every config of every file, or every error of every file — a source_id defined in two
    files included — (then exit 1)."""
    try:
        return load_source_configs(_expand(paths))
    except ConfigError as exc:
        err.print(str(exc), highlight=False, soft_wrap=True)
        raise fail("invalid source config(s); nothing was applied") from exc


@app.command()
def validate(paths: Paths) -> None:
    """Check source config files; report every error with file:line:column and path."""
    for config in _load(paths):
        console.print(f"[green]valid[/]  {config.source_id}")


@app.command()
def apply(
    filename: FileOpt,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, max=1000, help="configs per request to the planner")
    ] = BATCH_SIZE,
    api_url: ApiUrl = None,
    token: Token = None,
) -> None:
    """Create or update sources from files or folders (validated first: all or nothing), sent to
    the planner in batches. Exit 1 after a lost race or a job the scheduler refused, 3 while the
    scheduler is unavailable (the sources are stored; the planner registers their jobs later);
    either way the batches after it are not sent."""
    configs = _load(filename)
    api = client(api_url, token)
    with handle():
        report = apply_batches(api, configs, batch_size, _print_results)
    if report.not_sent:
        err.print(f"{report.not_sent} source(s) not sent: apply again once the problem above is solved")
    if report.conflicts or report.failed:
        raise typer.Exit(EXIT_INVALID)
    if report.unavailable:
        raise typer.Exit(EXIT_UNREACHABLE)


def _print_results(rows: list[dict[str, Any]]) -> None:
    """One line per source: on stdout, or on stderr when something went wrong (one call per batch)."""
    done, problems = [r for r in rows if not r.get("reason")], [r for r in rows if r.get("reason")]
    if done:
        console.print("\n".join(map(apply_line, done)), highlight=False)
    if problems:
        err.print("\n".join(map(apply_line, problems)), highlight=False, soft_wrap=True)


def _sources_table(rows: list[dict[str, Any]]) -> None:
    table = Table("SOURCE", "MODE", "SCHEDULE", "ENABLED", "VERSION", "UPDATED")
    for row in rows:
        ingestion = row["config"].get("ingestion", {})
        table.add_row(
            row["source_id"],
            ingestion.get("mode", ""),
            ingestion.get("schedule") or "-",
            "yes" if row["enabled"] else "no",
            str(row["version"]),
            row["updated_at"][:19],
        )
    console.print(table)


@app.command("list")
def list_(
    output: OutputOpt = Output.table,
    limit: Annotated[int, typer.Option("--limit", min=1, max=PAGE_ALL, help="sources per page")] = 100,
    after: Annotated[str | None, typer.Option("--after", help="start after this source id (the next page)")] = None,
    all_: Annotated[bool, typer.Option("--all", help="every source, read page by page")] = False,
    api_url: ApiUrl = None,
    token: Token = None,
) -> None:
    """List sources by id, a page at a time (--limit, default 100; --after the last id shown for
    the next page) or --all of them."""
    api = client(api_url, token)
    with handle():
        found = pages(api, PAGE_ALL if all_ else limit, after)
        rows = [row for page in found for row in page] if all_ else next(found, [])
    print_data(rows, output, _sources_table)
    if not all_ and len(rows) == limit:
        err.print(f"more sources may follow: --after {rows[-1]['source_id']} (or --all)", highlight=False)


@app.command()
def get(
    source_id: str,
    output: OutputOpt = Output.yaml,
    version: int | None = None,
    api_url: ApiUrl = None,
    token: Token = None,
) -> None:
    """Show one source (its stored config, version and hash)."""
    with handle():
        row = client(api_url, token).request(
            "GET", f"/api/v1/sources/{source_id}", params={"version": version} if version else None
        )
    print_data(row, output, lambda r: _sources_table([r]))


@app.command()
def diff(filename: FileOpt, api_url: ApiUrl = None, token: Token = None) -> None:
    """Show what `apply` would change."""
    api = client(api_url, token)
    with handle():
        for config in _load(filename):
            local = yaml.safe_dump(dump_source_config(config), sort_keys=True).splitlines(keepends=True)
            try:
                remote_cfg = api.request("GET", f"/api/v1/sources/{config.source_id}")["config"]
                remote = yaml.safe_dump(remote_cfg, sort_keys=True).splitlines(keepends=True)
            except Exception as exc:  # a 404 means: apply would create it
                if getattr(exc, "status", None) != 404:
                    raise
                console.print(f"source/{config.source_id}: [green]new[/] (apply would create it)")
                continue
            lines = list(difflib.unified_diff(remote, local, f"planner/{config.source_id}", "local"))
            if not lines:
                console.print(f"source/{config.source_id}: no changes")
            else:
                console.print("".join(lines), end="", highlight=False, markup=False)


@app.command()
def delete(source_id: str, api_url: ApiUrl = None, token: Token = None) -> None:
    """Delete a source (its job is removed; stored records stay; the id can be applied again)."""
    with handle():
        result = client(api_url, token).request("DELETE", f"/api/v1/sources/{source_id}") or {}
    pending = result.get("job") == "deletion pending"
    console.print(
        f"source/{source_id} deleted" + (" (job deletion pending: the scheduler is unavailable)" if pending else "")
    )


@app.command()
def trigger(
    source_id: str,
    wait: Annotated[bool, typer.Option("--wait", help="follow the run until it is final (see `runs watch`)")] = False,
    timeout: Timeout = 600.0,
    interval: Interval = 0.5,
    api_url: ApiUrl = None,
    token: Token = None,
) -> None:
    """Plan a source's work now, outside its schedule; with --wait, show the run's progress and exit
    0 succeeded, 1 failed or partial (or --timeout), 3 planner unreachable."""
    api = client(api_url, token)
    with handle():
        result = api.request("POST", f"/api/v1/sources/{source_id}/trigger")
        console.print(
            f"source/{source_id} {result['outcome']}: {result['work_items']} work item(s)"
            + (f", run {result['run_id']}" if result.get("run_id") else "")
            + (f" ({result['detail']})" if result.get("detail") else ""),
            highlight=False,
        )
        if not wait or not result.get("run_id"):
            return
        code = Watch(api, console).run(result["run_id"], timeout, interval)
    raise typer.Exit(code)
