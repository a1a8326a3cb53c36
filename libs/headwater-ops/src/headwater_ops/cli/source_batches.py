"""Many sources at once: ``sources apply`` sends configs in batches (``PUT /api/v1/sources``), and
``sources list`` reads the planner's pages (``GET /api/v1/sources?limit=&after=``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from headwater.config import SourceConfig, dump_source_config
from headwater_ops.cli.client import ApiClient

__all__ = ["BATCH_SIZE", "PAGE_ALL", "ApplyReport", "apply_batches", "apply_line", "pages"]

BATCH_SIZE = 500
PAGE_ALL = 1000  # the planner's largest page
BATCH_TIMEOUT = 300.0  # a batch waits for its jobs: up to 8 s per call while the scheduler does not answer
_COLOURS = {"created": "green", "updated": "yellow"}


@dataclass
class ApplyReport:
    """What ``apply_batches`` got back: every answered config's result, in order, and how many
    were not sent because an earlier batch went wrong."""

    results: list[dict[str, Any]] = field(default_factory=list)
    not_sent: int = 0

    @property
    def conflicts(self) -> list[dict[str, Any]]:
        return [r for r in self.results if r.get("reason") == "conflict"]

    @property
    def unavailable(self) -> list[dict[str, Any]]:
        return [r for r in self.results if r.get("reason") == "scheduler_unavailable"]

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.results if r.get("reason") == "job_failed"]


def apply_batches(
    api: ApiClient,
    configs: Sequence[SourceConfig],
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[list[dict[str, Any]]], None] = lambda _: None,
) -> ApplyReport:
    """Apply ``configs`` ``batch_size`` at a time, in order; ``on_batch`` sees each batch's results
    as they come. After a batch with a problem (a conflict, a job not registered) the rest is not
    sent, as a one-at-a-time apply stops at the first failure."""
    report = ApplyReport()
    for start in range(0, len(configs), batch_size):
        batch = configs[start : start + batch_size]
        body = [dump_source_config(config) for config in batch]
        results = list(api.request("PUT", "/api/v1/sources", json=body, timeout=BATCH_TIMEOUT)["results"])
        report.results += results
        on_batch(results)
        if any(r.get("reason") for r in results):
            report.not_sent = len(configs) - start - len(batch)
            break
    return report


def apply_line(result: dict[str, Any]) -> str:
    """One result as rich markup: ``source/<id> created (version 1)``, and what went wrong."""
    sid, status = result["source_id"], result.get("status")
    if status is None:
        return f"source/{sid} [red]not applied[/]: {result.get('error')}"
    line = f"source/{sid} [{_COLOURS.get(status, 'dim')}]{status}[/] (version {result['version']})"
    if result.get("reason"):
        line += f"; [red]job not registered[/] ({result['reason']}): {result.get('error')}"
    return line


def pages(api: ApiClient, limit: int, after: str | None = None) -> Iterator[list[dict[str, Any]]]:
    """The planner's pages of sources from ``after`` on, each of up to ``limit``; stops after a
    page that is not full."""
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"after": after} if after else {})
        rows = list(api.request("GET", "/api/v1/sources", params=params))
        if rows:
            yield rows
        if len(rows) < limit:
            return
        after = rows[-1]["source_id"]
