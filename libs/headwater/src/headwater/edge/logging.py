"""structlog set-up with a processor that masks every registered secret value, and the
current span's ``trace_id`` / ``span_id`` (W3C hex) on every line logged inside a trace."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import trace

__all__ = ["SecretRegistry", "add_trace_ids", "configure_logging", "secrets"]

MASK = "***"


class SecretRegistry:
    """Secret values seen at runtime; anything logged is scrubbed of them."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._longest_first: tuple[str, ...] = ()  # every log event is masked: sort once, on register
        self._lock = threading.Lock()

    def register(self, value: str | None) -> None:
        if value and len(value) >= 4 and value not in self._values:
            with self._lock:
                self._values.add(value)
                self._longest_first = tuple(sorted(self._values, key=len, reverse=True))

    def mask(self, text: str) -> str:
        for value in self._longest_first:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def __call__(self, _logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        for key, val in list(event.items()):
            if isinstance(val, str):
                event[key] = self.mask(val)
            elif isinstance(val, BaseException):
                event[key] = self.mask(repr(val))
        return event


secrets = SecretRegistry()


def add_trace_ids(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """``trace_id`` and ``span_id`` of the current span, when there is one."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = trace.format_trace_id(context.trace_id)
        event["span_id"] = trace.format_span_id(context.span_id)
    return event


def configure_logging(service: str, level: str = "info", json_logs: bool = False) -> None:
    """One structlog pipeline per process; ``secrets`` masking runs last before rendering."""
    renderer: Any = structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            add_trace_ids,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.format_exc_info,
            secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
