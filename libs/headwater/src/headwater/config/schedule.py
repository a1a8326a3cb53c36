"""Schedules: standard 5-field cron or descriptors, converted to Dapr's 6-field form.

Dapr's Jobs API parses ``schedule`` with seconds first (``sec min hour dom month dow``,
robfig/cron syntax: numbers, names, ``*``, ``?``, ranges, steps and lists, no ``L``/``W``/``#``/``H``)
and accepts ``@every <Go duration>``, ``@hourly``, ``@daily`` …; a ``CRON_TZ=<zone>`` prefix
sets the zone (otherwise fields match in UTC). See /work/shared/DAPR.md §2.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

__all__ = [
    "DESCRIPTORS",
    "SCHEDULE_PATTERN",
    "check_schedule",
    "check_timezone",
    "go_duration_seconds",
    "to_dapr_schedule",
]

DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
SCHEDULE_PATTERN = r"^\s*(@[a-z]+|@every\s+\S+|\S+(\s+\S+){4})\s*$"
UTC_NAMES = ("UTC", "Etc/UTC")

_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_GO_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week")
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_PART = re.compile(r"(?P<range>\*|\?|(?P<lo>\w+)(-(?P<hi>\w+))?)(/(?P<step>\d+))?")


def check_timezone(zone: str) -> str:
    """``zone`` if it is an IANA time zone name (``UTC``, ``Europe/Berlin``), else ValueError."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {zone!r}: use an IANA name like UTC or Europe/Berlin") from None
    return zone


def go_duration_seconds(text: str) -> float | None:
    """Seconds in a Go duration (``30s``, ``1h30m``, ``1.5h``, ``.5h``, ``1500ms``), or None when it is not one.

    The one parser of ``@every`` durations: config validation and the planner's tick keys use it.
    Units ``ns us µs ms s m h`` (no ``d``), fractions allowed, no sign, no spaces."""
    pos, total = 0, 0.0
    for match in _GO_PART.finditer(text):
        if match.start() != pos:
            return None
        total += float(match.group(1)) * _GO_UNITS[match.group(2)]
        pos = match.end()
    return total if text and pos == len(text) else None


def _check_every(schedule: str, text: str) -> str:
    duration = text.removeprefix("@every").strip()
    if not text[len("@every") :][:1].isspace() or not duration:
        raise ValueError(f"invalid schedule {schedule!r}: write @every <duration>, like @every 30s or @every 1h30m")
    seconds = go_duration_seconds(duration)
    if seconds is None:
        raise ValueError(
            f"invalid schedule {schedule!r}: {duration!r} is not a duration; use a number and a unit "
            "(s, m, h; e.g. 30s, 5m, 1h30m)"
        )
    if seconds < 1:
        raise ValueError(f"invalid schedule {schedule!r}: @every needs at least 1s")
    return f"@every {duration}"


def _value(token: str, index: int) -> int | None:
    if token.isdigit():
        return int(token)
    names = _MONTHS if index == 3 else _DAYS if index == 4 else ()
    lowered = token.lower()
    return names.index(lowered) + (1 if index == 3 else 0) if lowered in names else None


def _check_field(schedule: str, field: str, index: int) -> None:
    """Refuse what robfig/cron (Dapr's parser) refuses, even where croniter is lenient."""
    name, (low, high) = _FIELDS[index], _BOUNDS[index]
    for part in field.split(","):
        match = _PART.fullmatch(part)
        if match is None:
            raise ValueError(
                f"invalid schedule {schedule!r}: {name} field {field!r} is not supported by Dapr's scheduler "
                "(use numbers, names, '*', ranges 'a-b', steps '/n' and lists 'a,b'; not L, W, # or H)"
            )
        if match.group("step") is not None and int(match.group("step")) == 0:
            raise ValueError(f"invalid schedule {schedule!r}: {name} step must be at least 1")
        for token in (match.group("lo"), match.group("hi")):
            if token is None:
                continue
            value = _value(token, index)
            if value is None:
                raise ValueError(
                    f"invalid schedule {schedule!r}: {name} {token!r} is not supported by Dapr's scheduler "
                    "(use numbers or month/day names; not L, W, # or H)"
                )
            if not low <= value <= high:
                raise ValueError(f"invalid schedule {schedule!r}: {name} {token!r} is outside {low}-{high}")


def check_schedule(schedule: str) -> str:
    """The schedule, normalised (stripped, single spaces), or ValueError saying what is wrong."""
    text = " ".join(schedule.split())
    if text.startswith("@every"):
        return _check_every(schedule, text)
    if text.startswith("@"):
        if text not in DESCRIPTORS:
            raise ValueError(
                f"invalid schedule {schedule!r}: unknown descriptor; use one of "
                f"{', '.join(DESCRIPTORS)} or @every <duration>"
            )
        return text
    fields = text.split()
    if len(fields) != 5:
        extra = " (no seconds field: Headwater adds it for Dapr)" if len(fields) == 6 else ""
        raise ValueError(
            f"invalid schedule {schedule!r}: expected a 5-field cron expression "
            f"(minute hour day-of-month month day-of-week), got {len(fields)} fields{extra}"
        )
    if not croniter.is_valid(text):
        raise ValueError(f"invalid schedule {schedule!r}: not a valid cron expression")
    for index, field in enumerate(fields):
        _check_field(schedule, field, index)
    return text


def to_dapr_schedule(schedule: str, timezone: str = "UTC") -> str:
    """The Jobs API form of a config schedule.

    ``0 6 * * *`` → ``0 0 6 * * *``; with a zone other than UTC →
    ``CRON_TZ=Europe/Berlin 0 0 6 * * *``. Descriptors (``@daily``, ``@every 30s``) are returned
    unchanged: Dapr evaluates them in UTC. Raises ValueError for an invalid schedule or zone.
    """
    text = check_schedule(schedule)
    check_timezone(timezone)
    if text.startswith("@"):
        return text
    six = f"0 {text}"
    return six if timezone in UTC_NAMES else f"CRON_TZ={timezone} {six}"
