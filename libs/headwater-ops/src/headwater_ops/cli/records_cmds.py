"""``headwater records history SOURCE KEY``: every version of one record, as the worker keeps it.

It calls the worker through Dapr service invocation, like the other data commands (the base
URL is the planner's with the app id swapped, or ``--worker-url``).
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from headwater_ops.cli.common import ApiUrl, Output, OutputOpt, Token, console, handle, print_data
from headwater_ops.cli.data_cmds import WorkerUrl, _client_for

__all__ = ["app", "history_rows"]

app = typer.Typer(help="Records and their history.", no_args_is_help=True)


def history_rows(data: dict[str, Any]) -> list[tuple[str, ...]]:
    """One row per version, in the order they were valid: version, valid from, valid to, state
    (current, closed or deleted), values (the record as JSON), dataset version."""
    rows: list[tuple[str, ...]] = []
    for v in data["versions"]:
        state = "deleted" if v["deleted"] else "current" if v["current"] else "closed"
        values = "" if v["deleted"] else json.dumps(v["data"], ensure_ascii=False, sort_keys=True, default=str)
        rows.append(
            (
                str(v["version"]),
                v["valid_from"][:19],
                (v["valid_to"] or "")[:19],
                state,
                values,
                v["dataset_version"] or "",
            )
        )
    return rows


@app.command("history")
def history(
    source: str,
    key: str,
    output: OutputOpt = Output.table,
    api_url: ApiUrl = None,
    worker_url: WorkerUrl = None,
    token: Token = None,
) -> None:
    """Every version of the record KEY of SOURCE with its validity and values (a deletion shows
    as a version in state 'deleted')."""
    with handle():
        data = _client_for("worker", api_url, worker_url, token).request(
            "GET", "/api/v1/records/history", params={"source": source, "key": key}
        )

    def table(d: dict[str, Any]) -> None:
        t = Table("VERSION", "VALID FROM", "VALID TO", "STATE", "VALUES", "DATASET VERSION", title=f"{source} {key}")
        for row in history_rows(d):
            t.add_row(*row)
        console.print(t)

    print_data(data, output, table)
