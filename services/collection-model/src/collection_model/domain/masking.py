"""Secret masking: every secret value the fetcher sees is registered, and any text that
leaves the service (error messages, log fields) is scrubbed of it.

A value is also registered in the forms it takes inside a URL (percent-encoded, with ``+``
for spaces), so an API key in a query string is masked in an error that quotes the URL.
Even short values are masked: a garbled message is better than a leaked secret.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, quote_plus

__all__ = ["MASK", "SecretMasker"]

MASK = "***"


class SecretMasker:
    def __init__(self, on_register: Callable[[str], None] | None = None) -> None:
        """``on_register`` also receives each value (e.g. the log pipeline's own registry)."""
        self._values: set[str] = set()
        self._ordered: list[str] = []
        self._on_register = on_register

    def register(self, value: str | None) -> None:
        if not value:
            return
        forms = {value, quote(value, safe=""), quote(value), quote_plus(value)}
        if forms <= self._values:
            return
        self._values |= forms
        self._ordered = sorted(self._values, key=len, reverse=True)
        if self._on_register is not None:
            for form in forms:
                self._on_register(form)

    def mask(self, text: str) -> str:
        for value in self._ordered:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def __contains__(self, value: object) -> bool:
        return value in self._values
