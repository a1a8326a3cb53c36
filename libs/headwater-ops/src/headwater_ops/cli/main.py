"""Entry point of the ``headwater`` command.

Exit codes: 0 ok, 1 invalid input or failed operation, 2 usage error, 3 server unreachable.
"""

from __future__ import annotations

import typer

from headwater_ops.cli import (
    data_cmds,
    demo_cmds,
    records_cmds,
    reprocess_cmds,
    runs_cmds,
    runtime_cmds,
    sources_cmds,
    subscribers_cmds,
)

app = typer.Typer(
    name="headwater",
    help="Headwater: configuration-driven data ingestion on Dapr.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("setup")(runtime_cmds.setup)
app.command("up")(runtime_cmds.up)
app.command("down")(runtime_cmds.down)
app.command("status")(runtime_cmds.status)
sources_cmds.app.command("status")(runs_cmds.status)
sources_cmds.app.command("backfill")(runs_cmds.backfill)
app.add_typer(sources_cmds.app, name="sources")
app.add_typer(runs_cmds.app, name="runs")
app.add_typer(data_cmds.dlq_app, name="dlq")
app.add_typer(data_cmds.datasets_app, name="datasets")
app.add_typer(records_cmds.app, name="records")
app.command("upload")(data_cmds.upload)
app.command("summary")(data_cmds.summary)
app.command("audit")(data_cmds.audit)
app.command("reprocess")(reprocess_cmds.reprocess)
app.command("demo")(demo_cmds.demo)
app.add_typer(subscribers_cmds.app, name="subscribers")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
