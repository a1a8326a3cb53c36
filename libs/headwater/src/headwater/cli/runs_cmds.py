"""``headwater runs …`` and ``headwater sources status|backfill``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from headwater.cli.common import ApiUrl, Output, OutputOpt, Token, client, console, fail, handle, print_data

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


@app.command()
def get(run_id: str, output: OutputOpt = Output.yaml, api_url: ApiUrl = None, token: Token = None) -> None:
    """One run with its windows and task outcomes."""
    with handle():
        row = client(api_url, token).request("GET", f"/api/v1/runs/{run_id}")
    print_data(row, output, lambda r: _runs_table([r]))


def status(source_id: str, output: OutputOpt = Output.table, api_url: ApiUrl = None, token: Token = None) -> None:
    """Watermarks, lag behind now, the job, last runs and failures of a source."""
    with handle():
        data = client(api_url, token).request("GET", f"/api/v1/sources/{source_id}/status")

    def show(d: dict[str, Any]) -> None:
        lag = d.get("lag_seconds")
        console.print(
            f"source          {d['source_id']} (version {d['version']}, {'enabled' if d['enabled'] else 'disabled'})"
        )
        console.print(f"job             {d['job']['name'] + ' ' + d['job']['schedule'] if d['job'] else '-'}")
        console.print(f"planned_until   {d['planned_until'] or '-'}")
        console.print(f"completed_until {d['completed_until'] or '-'}")
        console.print(f"lag             {f'{lag / 3600:.1f} h' if lag is not None else '-'}")
        console.print(f"failures        {len(d['failures'])} of the last {len(d['last_runs'])} runs")
        if d["last_runs"]:
            _runs_table(d["last_runs"])

    print_data(data, output, show)


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
