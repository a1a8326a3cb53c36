"""``headwater runs …`` and ``headwater sources status|backfill``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from headwater_ops.cli.common import (
    ApiUrl,
    Output,
    OutputOpt,
    Token,
    client,
    console,
    fail,
    handle,
    human_duration,
    print_data,
)
from headwater_ops.cli.run_watch import Interval, Timeout, Watch

app = typer.Typer(help="Inspect planning runs.", no_args_is_help=True)


def _runs_table(rows: list[dict[str, Any]]) -> None:
    table = Table("RUN", "SOURCE", "TRIGGER", "AT", "STATUS", "WINDOWS", "ITEMS", "ERROR")
    for r in rows:
        table.add_row(
            r["run_id"][:12],
            r["source_id"],
            r["trigger"],
            r["triggered_at"][:19],
            r["status"],
            str(len(r["windows"])),
            str(r["counts"].get("work_items", 0)),
            (r.get("error") or "")[:40],
        )
    console.print(table)


@app.command("list")
def list_(
    source: Annotated[str | None, typer.Option("--source")] = None,
    limit: int = 20,
    output: OutputOpt = Output.table,
    api_url: ApiUrl = None,
    token: Token = None,
) -> None:
    """Recent runs, newest first."""
    params: dict[str, Any] = {"limit": limit} | ({"source": source} if source else {})
    with handle():
        rows = client(api_url, token).request("GET", "/api/v1/runs", params=params)
    print_data(rows, output, _runs_table)


def _run_detail(r: dict[str, Any]) -> None:
    _runs_table([r])
    if r.get("error"):
        console.print(f"error: {r['error']}", highlight=False, markup=False, soft_wrap=True)
    for task_id, error in (r.get("task_errors") or {}).items():
        console.print(f"  {task_id}: {error}", highlight=False, markup=False, soft_wrap=True)


@app.command()
def get(run_id: str, output: OutputOpt = Output.yaml, api_url: ApiUrl = None, token: Token = None) -> None:
    """One run with its windows, task outcomes and error."""
    with handle():
        row = client(api_url, token).request("GET", f"/api/v1/runs/{run_id}")
    print_data(row, output, _run_detail)


app.command("show", help="One run with its windows, task outcomes and error (same as get).")(get)


@app.command()
def watch(
    run_id: str, timeout: Timeout = 600.0, interval: Interval = 0.5, api_url: ApiUrl = None, token: Token = None
) -> None:
    """Live progress of a run (tasks, items/pages fetched, documents, records) until it is final;
    exit 0 succeeded, 1 failed or partial (or --timeout), 3 planner unreachable."""
    with handle():
        code = Watch(client(api_url, token), console).run(run_id, timeout, interval)
    raise typer.Exit(code)


def _windows_table(title: str, rows: list[dict[str, Any]], max_attempts: int | None) -> None:
    table = Table("WINDOW FROM", "TO", "STATE", "ATTEMPT", "NEXT ATTEMPT", "LAST ERROR", title=title)
    for w in rows:
        table.add_row(
            w["from"][:19],
            w["to"][:19],
            w["state"],
            f"{w['attempt']}/{max_attempts}" if max_attempts else str(w["attempt"]),
            (w.get("next_attempt_at") or "-")[:19],
            (w.get("last_error") or "")[:60],
        )
    console.print(table)


def cursor_lines(cursor: dict[str, Any] | None) -> list[str]:
    """The incremental cursor of ``sources status``: what is stored, and what the next fetch sends."""
    if not cursor:
        return []
    spec = cursor.get("incremental") or {}
    stored = "-" if cursor.get("value") is None else f"{cursor['value']} (stored {(cursor['updated_at'] or '')[:19]})"
    lines = [f"cursor          {spec.get('cursor_path') or '-'}: {stored}"]
    if spec:
        start, lag = cursor.get("next_start"), spec.get("lag")
        minus = f" minus lag {lag}" if cursor.get("next_start_from") == "cursor" and lag is not None else ""
        lines.append(f"next fetch      ?{spec['param']}={start}{minus} ({cursor.get('next_start_from')})")
    return lines


def _show_status(d: dict[str, Any]) -> None:
    lag, failing, dead = d.get("lag_seconds"), d.get("failing_windows", []), d.get("dead_windows", [])
    recovered, last = d.get("recovered_windows", []), d.get("last_error")
    console.print(
        f"source          {d['source_id']} (version {d['version']}, {'enabled' if d['enabled'] else 'disabled'})"
    )
    console.print(f"job             {d['job']['name'] + ' ' + d['job']['schedule'] if d['job'] else '-'}")
    console.print(f"planned_until   {d['planned_until'] or '-'}")
    console.print(f"completed_until {d['completed_until'] or '-'}")
    console.print(f"lag             {human_duration(lag)}{' behind now' if lag is not None else ''}")
    console.print(f"last run        {_last_run(d['last_runs'])}", highlight=False, markup=False, soft_wrap=True)
    console.print(f"failures        {len(d['failures'])} of the last {len(d['last_runs'])} runs")
    console.print(f"windows         {len(failing)} failing, {len(dead)} dead, {len(recovered)} recently recovered")
    last_text = "-"
    if last:
        window = f" task {last['task_id']}" if last.get("task_id") else ""
        last_text = f"{last['at'][:19]} run {(last['run_id'] or '-')[:12]}{window}: {last['error']}"
    console.print(f"last error      {last_text}", highlight=False, markup=False, soft_wrap=True)
    for line in cursor_lines(d.get("cursor")):
        console.print(line, highlight=False, markup=False, soft_wrap=True)
    for title, rows in (("failing windows", failing), ("dead windows", dead), ("recovered windows", recovered)):
        if rows:
            _windows_table(title, rows, d.get("max_attempts"))
    if d["last_runs"]:
        _runs_table(d["last_runs"])


def _last_run(runs: list[dict[str, Any]]) -> str:
    if not runs:
        return "-"
    r = runs[0]
    return f"{r['run_id'][:12]} {r['status']} ({r['trigger']}, {r['triggered_at'][:19]}, {len(r['task_ids'])} task(s))"


def status(source_id: str, output: OutputOpt = Output.table, api_url: ApiUrl = None, token: Token = None) -> None:
    """Watermarks, lag behind now, the job, last runs, failing/dead windows and the last error of a source."""
    with handle():
        data = client(api_url, token).request("GET", f"/api/v1/sources/{source_id}/status")
    print_data(data, output, _show_status)


def backfill(
    source_id: str,
    start: Annotated[datetime, typer.Option("--from", help="start (ISO 8601, UTC if no zone)")],
    end: Annotated[datetime, typer.Option("--to", help="end, exclusive")],
    api_url: ApiUrl = None,
    token: Token = None,
) -> None:
    """Plan historical windows in runs that respect the cap."""
    if end <= start:
        raise fail("--to must be after --from")
    with handle(), Progress(console=console) as bar:
        task = bar.add_task(f"backfill {source_id}", total=None)
        data = client(api_url, token).request(
            "POST", f"/api/v1/sources/{source_id}/backfill", json={"start": start.isoformat(), "end": end.isoformat()}
        )
        bar.update(task, total=len(data["runs"]), completed=len(data["runs"]))
    items = sum(r["work_items"] for r in data["runs"])
    console.print(f"source/{source_id}: {len(data['runs'])} run(s), {items} work item(s) planned")
