"""Options and error handling shared by the CLI's command groups."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import typer
import yaml
from rich.console import Console

from headwater_ops.cli.client import (
    ApiClient,
    ApiError,
    Unreachable,
    default_api_url,
    default_dapr_token,
    default_token,
)

__all__ = [
    "EXIT_INVALID",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "ApiUrl",
    "Output",
    "OutputOpt",
    "Token",
    "client",
    "console",
    "err",
    "fail",
    "handle",
    "human_duration",
    "print_data",
]

# outside a terminal (CI logs, pipes) rich would wrap tables at 80 columns
console = Console(width=None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "140")))
err = Console(stderr=True, width=None if sys.stderr.isatty() else int(os.environ.get("COLUMNS", "140")))

EXIT_INVALID, EXIT_USAGE, EXIT_UNREACHABLE = 1, 2, 3

ApiUrl = Annotated[
    str | None,
    typer.Option(
        "--api-url", envvar="HEADWATER_API_URL", help="planner API base URL (default: through the planner's sidecar)"
    ),
]
Token = Annotated[
    str | None,
    typer.Option(
        "--token", envvar="HEADWATER_API_TOKEN", show_default=False, help="API token (default: the local stack's)"
    ),
]


class Output(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


OutputOpt = Annotated[Output, typer.Option("-o", "--output", help="output format")]


def client(api_url: str | None, token: str | None) -> ApiClient:
    return ApiClient(api_url or default_api_url(), token or default_token(), dapr_token=default_dapr_token())


def fail(message: str, code: int = EXIT_INVALID) -> typer.Exit:
    err.print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def handle() -> Iterator[None]:
    """Turn client errors into one-line reasons and the documented exit codes."""
    try:
        yield
    except Unreachable as exc:
        raise fail(str(exc), EXIT_UNREACHABLE) from exc
    except ApiError as exc:
        detail = exc.detail
        if isinstance(detail, dict) and detail.get("errors"):
            for item in detail["errors"]:
                err.print(f"  {item.get('path')}: {item.get('message')}", highlight=False)
        raise fail(str(exc)) from exc


def human_duration(seconds: float | None) -> str:
    """``3 d 4 h``, ``2 h 5 min``, ``4 min 10 s``, ``45 s``; ``-`` for None."""
    if seconds is None:
        return "-"
    s = int(abs(seconds))
    days, hours, minutes = s // 86400, s % 86400 // 3600, s % 3600 // 60
    text = (
        f"{days} d {hours} h"
        if days
        else f"{hours} h {minutes} min"
        if hours
        else f"{minutes} min {s % 60} s"
        if minutes
        else f"{s} s"
    )
    return f"-{text}" if seconds < 0 else text


T = TypeVar("T")


def print_data(data: Any, output: Output, table: Callable[[Any], None]) -> None:
    if output is Output.json and not console.is_terminal:
        # the same text rich prints outside a terminal, without its second parse (5 s per 1,000 sources)
        sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")
    elif output is Output.json:
        console.print_json(json.dumps(data, default=str))
    elif output is Output.yaml:
        console.print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), end="", highlight=False)
    else:
        table(data)
