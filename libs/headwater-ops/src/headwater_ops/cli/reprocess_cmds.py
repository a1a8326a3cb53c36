"""``headwater reprocess SOURCE [--document ID | --since TIME]``: parse stored documents again
with the source's current config, without fetching.

It calls the worker through Dapr service invocation, like the other data commands (the base
URL is the planner's with the app id swapped, or ``--worker-url``). The worker queues the
documents on ``raw-documents`` and answers at once; processing is asynchronous (``headwater
audit --source SOURCE`` follows it: steps ``reprocess``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from headwater.config.durations import parse_duration
from headwater_ops.cli.client import ApiClient
from headwater_ops.cli.common import (
    EXIT_INVALID,
    EXIT_USAGE,
    ApiUrl,
    Output,
    OutputOpt,
    Token,
    console,
    err,
    fail,
    handle,
    print_data,
)
from headwater_ops.cli.data_cmds import WorkerUrl, _client_for

__all__ = ["queue", "report_lines", "reprocess", "since_time"]


def since_time(text: str, now: datetime) -> datetime:
    """``--since``: an ISO 8601 time (UTC when it names no zone) or a duration back from now (``24h``)."""
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--since {text!r}: use an ISO 8601 time (2026-01-01T00:00:00Z) or a duration (24h)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def queue(api: ApiClient, source: str, document: str | None, since: datetime | None) -> dict[str, Any]:
    """Ask the worker to queue the documents; its answer."""
    body: dict[str, Any] = {}
    if document:
        body["document"] = document
    if since is not None:
        body["since"] = since.isoformat()
    answer: dict[str, Any] = api.request("POST", f"/api/v1/sources/{source}/reprocess", json=body)
    return answer


def report_lines(answer: dict[str, Any]) -> tuple[list[str], list[str]]:
    """What to print: lines for stdout (what was queued), lines for stderr (what could not be)."""
    out = [
        f"queued {answer['queued']} document(s) of source/{answer['source_id']} for reprocessing with "
        f"config version {answer['config_version']} (run {answer['run_id']}); follow it with "
        f"`headwater audit --source {answer['source_id']}`"
    ]
    out += [f"  {d}" for d in answer["documents"]]
    problems = [f"superseded by a later document of its stream, not reprocessed: {d}" for d in answer["superseded"]]
    problems += [f"body expired (store.raw_retention), cannot be reprocessed: {d}" for d in answer["expired"]]
    return out, problems


def reprocess(
    source: str,
    document: Annotated[
        str | None, typer.Option("--document", help="one document: its id, a dataset version of it, or its sha256")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="documents fetched at or after TIME (ISO 8601, or a duration: 24h)")
    ] = None,
    output: OutputOpt = Output.table,
    api_url: ApiUrl = None,
    worker_url: WorkerUrl = None,
    token: Token = None,
) -> None:
    """Parse SOURCE's stored documents again with its current config (no fetch). Exit 1 when a
    document's body has expired."""
    if document and since:
        raise fail("--document and --since exclude each other", EXIT_USAGE)
    try:
        moment = None if since is None else since_time(since, datetime.now(UTC))
    except ValueError as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    with handle():
        answer = queue(_client_for("worker", api_url, worker_url, token), source, document, moment)

    def table(data: dict[str, Any]) -> None:
        out, problems = report_lines(data)
        for line in out:
            console.print(line, highlight=False, soft_wrap=True)
        for line in problems:
            err.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True)

    print_data(answer, output, table)
    if answer["expired"]:
        raise typer.Exit(EXIT_INVALID)
