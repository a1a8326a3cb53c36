"""Trigger keys of unwindowed sources: which tick of the schedule a trigger belongs to.

Dapr delivers a job at least once, and a trigger may arrive a little after its tick, so the
task id of an unwindowed source carries the tick it belongs to, not the delivery time: a
redelivered trigger maps to the same work item. ``@every <Go duration>`` ticks are counted
from the Unix epoch in whole seconds (``@every 1500ms`` ticks every second); cron expressions
and descriptors (``@hourly``, ``@daily`` …) are read by croniter, in UTC. A manual trigger
is its own key, to the microsecond.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from croniter import croniter

from headwater.config.schedule import go_duration_seconds

__all__ = ["manual_key", "tick_key"]


def tick_key(schedule: str | None, now: datetime) -> str:
    """``tick-<time of the latest tick at or before now>`` (``now`` itself when unreadable)."""
    text = schedule or ""
    if text.startswith("@every"):
        step = int(go_duration_seconds(text.removeprefix("@every").strip()) or 1) or 1
        tick_ts = int(now.timestamp()) // step * step
        return f"tick-{datetime.fromtimestamp(tick_ts, now.tzinfo).strftime('%Y%m%dT%H%M%S')}"
    try:
        tick = croniter(text, now + timedelta(seconds=1)).get_prev(datetime)
    except (ValueError, KeyError):
        tick = now
    return f"tick-{tick.strftime('%Y%m%dT%H%M%S')}"


def manual_key(now: datetime) -> str:
    """The key of a manual trigger at ``now``."""
    return f"manual-{now.strftime('%Y%m%dT%H%M%S.%fZ')}"
