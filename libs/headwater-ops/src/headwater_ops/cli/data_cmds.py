"""``headwater upload``, ``dlq list|replay``, ``datasets rollback``, ``summary``.

They call collection-model and the worker through Dapr service invocation; the base URL is
the planner's (``--api-url``) with the app id swapped, or ``--worker-url``/``--collector-url``.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from headwater_ops.cli.client import ApiClient, default_api_url, default_dapr_token, default_token
from headwater_ops.cli.common import ApiUrl, Output, OutputOpt, Token, console, fail, handle, print_data

dlq_app = typer.Typer(help="Dead letters of raw-documents.", no_args_is_help=True)
datasets_app = typer.Typer(help="Dataset versions (one per processed document).", no_args_is_help=True)

CONTENT_TYPES = {
    ".csv": "text/csv",
    ".json": "application/json",
    ".ndjson": "application/x-ndjson",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _client_for(app_id: str, api_url: str | None, explicit: str | None, token: str | None) -> ApiClient:
    if explicit:
        return ApiClient(explicit, token or default_token(), dapr_token=default_dapr_token())
    base = api_url or default_api_url()
    if "/invoke/planner/" not in base:
        raise fail(
            f"cannot derive the {app_id} URL from {base}; pass --{'worker' if app_id == 'worker' else 'collector'}-url"
        )
    return ApiClient(
        base.replace("/invoke/planner/", f"/invoke/{app_id}/"),
        token or default_token(),
        dapr_token=default_dapr_token(),
    )


WorkerUrl = Annotated[str | None, typer.Option("--worker-url", envvar="HEADWATER_WORKER_URL")]
CollectorUrl = Annotated[str | None, typer.Option("--collector-url", envvar="HEADWATER_COLLECTOR_URL")]


def upload(
    source_id: str,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    api_url: ApiUrl = None,
    collector_url: CollectorUrl = None,
    token: Token = None,
) -> None:
    """Upload a CSV, XLSX or JSON file to a source (push mode / file landing)."""
    content_type = CONTENT_TYPES.get(file.suffix.lower()) or mimetypes.guess_type(file.name)[0] or ""
    if content_type not in CONTENT_TYPES.values():
        raise fail(f"{file}: unsupported file type; use one of {', '.join(CONTENT_TYPES)}")
    api = _client_for("collection-model", api_url, collector_url, token)
    with handle():
        result = api.upload(f"/api/v1/sources/{source_id}/uploads", file, content_type)
    console.print(
        f"uploaded {file.name} ({result['bytes']} bytes, sha256 {result['sha256'][:12]}…) "
        f"to source/{source_id}: task {result['task_id']}"
    )


@dlq_app.command("list")
def dlq_list(
    all_: Annotated[bool, typer.Option("--all", help="include replayed and recovered letters")] = False,
    output: OutputOpt = Output.table,
    api_url: ApiUrl = None,
    worker_url: WorkerUrl = None,
    token: Token = None,
) -> None:
    """Raw documents that could not be processed, each with its cause (``--all``: also those
    replayed, and those recovered on their own once the worker or the store was back)."""
    with handle():
        rows = _client_for("worker", api_url, worker_url, token).request(
            "GET", "/api/v1/dead-letters", params={"all": str(all_).lower()}
        )

    def table(data: list[dict[str, Any]]) -> None:
        t = Table("ID", "SOURCE", "TASK", "RECEIVED", "OUTCOME", "CAUSE", "REPLAYED")
        for d in data:
            t.add_row(
                d["id"],
                d["source_id"] or "",
                d["task_id"] or "",
                d["received_at"][:19],
                d.get("outcome") or "parked",
                d.get("cause") or "",
                (d["replayed_at"] or "")[:19],
            )
        console.print(t)

    print_data(rows, output, table)


@dlq_app.command("replay")
def dlq_replay(
    ids: Annotated[list[str] | None, typer.Argument(help="letter ids (default: all)")] = None,
    api_url: ApiUrl = None,
    worker_url: WorkerUrl = None,
    token: Token = None,
) -> None:
    """Publish dead letters again on raw-documents."""
    api = _client_for("worker", api_url, worker_url, token)
    with handle():
        targets = ids or [d["id"] for d in api.request("GET", "/api/v1/dead-letters")]
        replayed = 0
        with Progress(console=console) as bar:
            task = bar.add_task("replaying", total=len(targets))
            for letter in targets:
                api.request("POST", "/api/v1/dead-letters/replay", json={"id": letter})
                replayed += 1
                bar.advance(task)
    console.print(f"replayed {replayed} dead letter(s)")


@datasets_app.command("rollback")
def rollback(version: str, api_url: ApiUrl = None, worker_url: WorkerUrl = None, token: Token = None) -> None:
    """Restore the records a dataset version changed (needs history: scd2)."""
    with handle():
        r = _client_for("worker", api_url, worker_url, token).request("POST", f"/api/v1/datasets/{version}/rollback")
    console.print(
        f"rolled back {version}: {r['restored']} restored, {r['removed']} removed, "
        f"{r['conflicts']} left alone (changed again later)"
    )


def summary(
    source: Annotated[str | None, typer.Option("--source")] = None,
    output: OutputOpt = Output.table,
    api_url: ApiUrl = None,
    worker_url: WorkerUrl = None,
    token: Token = None,
) -> None:
    """Documents stored / duplicate / failed, records and rejected rows per source."""
    with handle():
        data = _client_for("worker", api_url, worker_url, token).request(
            "GET", "/api/v1/summary", params={"source": source} if source else None
        )

    def table(d: dict[str, Any]) -> None:
        t = Table("SOURCE", "STORED", "DUPLICATES", "FAILED", "RECORDS", "REJECTED ROWS")
        for sid, row in sorted(d["sources"].items()):
            t.add_row(
                sid, *(str(row.get(k, 0)) for k in ("stored", "duplicates", "failed", "records", "rows_rejected"))
            )
        console.print(t)
        events = d["counters"].get("headwater.worker.events_emitted")
        if events is not None:
            console.print(f"events emitted by this worker since it started: {events}")

    print_data(data, output, table)


def audit(
    source: Annotated[str | None, typer.Option("--source")] = None,
    document: Annotated[str | None, typer.Option("--document", help="a dataset version / raw document id")] = None,
    limit: int = 50,
    output: OutputOpt = Output.table,
    api_url: ApiUrl = None,
    worker_url: WorkerUrl = None,
    token: Token = None,
) -> None:
    """The worker's audit trail, newest first: every step with its counts and outcome."""
    params: dict[str, Any] = {"limit": limit} | ({"source": source} if source else {})
    if document:
        params["document"] = document
    with handle():
        rows = _client_for("worker", api_url, worker_url, token).request("GET", "/api/v1/audit", params=params)

    def table(data: list[dict[str, Any]]) -> None:
        t = Table("AT", "SOURCE", "STEP", "OUTCOME", "COUNTS", "DOCUMENT")
        for r in data:
            counts = ", ".join(f"{k}={v}" for k, v in (r["counts"] or {}).items() if v)
            t.add_row(
                r["at"][:19],
                r["source_id"] or "",
                r["step"] or "",
                r["outcome"] or "",
                counts,
                (r["document_id"] or "")[-20:],
            )
        console.print(t)

    print_data(rows, output, table)
