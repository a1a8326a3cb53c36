"""Durations written like ``30s``, ``15m``, ``1h``, ``1d`` or ``1h30m``.

In Python a duration is a ``timedelta``; it serialises back to the canonical text
(largest units first, ``0s`` for zero), so ``90m`` is stored and hashed as ``1h30m``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

__all__ = ["DURATION_PATTERN", "Duration", "format_duration", "parse_duration"]

DURATION_PATTERN = r"^(\d+[dhms])+$"
_PART = re.compile(r"(\d+)([dhms])")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_HINT = "use a number and a unit, like 30s, 15m, 1h, 1d or 1h30m"


def parse_duration(value: Any) -> timedelta:
    """``"1h30m"`` → ``timedelta(hours=1, minutes=30)``; a ``timedelta`` passes through.

    Raises ValueError naming the bad text (numbers alone are refused: the unit is required).
    """
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError(f"invalid duration {value!r}: {_HINT}")
    text = value.strip()
    if not re.fullmatch(DURATION_PATTERN, text):
        raise ValueError(f"invalid duration {value!r}: {_HINT}")
    return timedelta(seconds=sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(text)))


def format_duration(value: timedelta) -> str:
    """The canonical text of a duration: ``timedelta(minutes=90)`` → ``"1h30m"``."""
    seconds = int(value.total_seconds())
    if seconds == 0:
        return "0s"
    out = []
    for unit, size in _UNITS.items():
        if seconds >= size:
            out.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(out)


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "examples": ["30s", "15m", "1h", "1d"]}),
]
