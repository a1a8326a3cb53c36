"""Schedules: standard 5-field cron or descriptors, converted to Dapr's 6-field form.

Dapr's Jobs API parses ``schedule`` with seconds first (``sec min hour dom month dow``) and
accepts ``@every <Go duration>``, ``@hourly``, ``@daily`` …; a ``CRON_TZ=<zone>`` prefix sets
the zone (otherwise fields match in UTC). See ../shared/DAPR.md §2.
"""

from __future__ import annotations

import re

from croniter import croniter

__all__ = ["DESCRIPTORS", "check_schedule", "to_dapr_schedule"]

DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_GO_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")


def check_schedule(schedule: str) -> str:
    """Return the schedule stripped, or raise ValueError saying what is wrong."""
    text = schedule.strip()
    if text.startswith("@every"):
        duration = text.removeprefix("@every").strip()
        if not _GO_DURATION.match(duration):
            raise ValueError(f"invalid schedule {schedule!r}: @every needs a duration like 30s, 5m or 1h30m")
        return text
    if text.startswith("@"):
        if text not in DESCRIPTORS:
            raise ValueError(
                f"invalid schedule {schedule!r}: unknown descriptor; use one of "
                f"{', '.join(DESCRIPTORS)} or @every <duration>"
            )
        return text
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(
            f"invalid schedule {schedule!r}: expected a 5-field cron expression "
            f"(minute hour day-of-month month day-of-week), got {len(fields)} fields"
        )
    if not croniter.is_valid(text):
        raise ValueError(f"invalid schedule {schedule!r}: not a valid cron expression")
    return text


def to_dapr_schedule(schedule: str, timezone: str = "UTC") -> str:
    """``0 6 * * *`` → ``0 0 6 * * *``; descriptors unchanged; ``CRON_TZ=`` for other zones."""
    text = check_schedule(schedule)
    if text.startswith("@"):
        return text
    six = f"0 {text}"
    return six if timezone in ("UTC", "Etc/UTC") else f"CRON_TZ={timezone} {six}"
