"""``OtelWorkerMetrics``: the worker's counters as OpenTelemetry counters (``headwater.worker.*``)."""

from __future__ import annotations

from typing import Any

from headwater.telemetry import counter, snapshot

__all__ = ["OtelWorkerMetrics"]

DESCRIPTIONS = {
    "documents_stored": "documents stored",
    "documents_duplicate": "duplicate documents",
    "documents_failed": "documents that failed",
}


class OtelWorkerMetrics:
    """One lazily bound counter per name; an unknown name is a programming error (KeyError)."""

    def __init__(self) -> None:
        self._counters: dict[str, Any] = {
            name: counter(f"headwater.worker.{name}", description) for name, description in DESCRIPTIONS.items()
        }

    def count(self, name: str, amount: int, **attributes: str) -> None:
        self._counters[name].add(amount, attributes)

    def snapshot(self) -> dict[str, int]:
        return snapshot()
