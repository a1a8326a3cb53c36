"""Due time windows of a windowed source.

Windows lie on a grid of ``slice``-long steps counted from ``start``. Slices shorter than a
day are laid out in UTC; slices of whole days are laid out on local midnights of the
policy's timezone, so a day across a DST change is 23 or 25 hours long. Only whole windows
whose end is not after ``now`` are due: the current, incomplete window is never planned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from headwater.contracts.messages import TimeWindow

__all__ = ["WindowPlan", "WindowPolicy", "backfill_windows", "plan_windows", "window_grid"]

DAY = timedelta(days=1)


@dataclass(frozen=True)
class WindowPolicy:
    cadence: timedelta
    start: datetime
    lookback: timedelta
    slice: timedelta
    max_slices_per_run: int
    timezone: str = "UTC"


@dataclass(frozen=True)
class WindowPlan:
    windows: list[TimeWindow]
    new_planned_until: datetime | None
    skipped_reason: str | None = None
    capped: bool = False


def _daily(policy: WindowPolicy) -> bool:
    return policy.slice >= DAY and policy.slice % DAY == timedelta(0)


def _boundary(policy: WindowPolicy, index: int) -> datetime:
    """The ``index``-th grid point after ``start`` (wall-clock days for daily slices)."""
    if _daily(policy):
        zone = ZoneInfo(policy.timezone)
        local = policy.start.astimezone(zone)
        days = (policy.slice // DAY) * index
        naive = local.replace(tzinfo=None) + timedelta(days=days)
        return naive.replace(tzinfo=zone).astimezone(UTC)
    return (policy.start + policy.slice * index).astimezone(UTC)


def _index_at_or_before(policy: WindowPolicy, moment: datetime) -> int:
    """The largest grid index whose boundary is <= ``moment`` (0 when before start)."""
    if moment <= policy.start:
        return 0
    guess = int((moment - policy.start) / policy.slice)
    while _boundary(policy, guess) > moment:
        guess -= 1
    while _boundary(policy, guess + 1) <= moment:
        guess += 1
    return guess


def window_grid(policy: WindowPolicy, start: datetime, end: datetime) -> list[TimeWindow]:
    """Every whole grid window inside ``[start, end)``, starting at the grid point <= ``start``."""
    windows: list[TimeWindow] = []
    index = _index_at_or_before(policy, start)
    while True:
        lo, hi = _boundary(policy, index), _boundary(policy, index + 1)
        if hi > end:
            return windows
        windows.append(TimeWindow.model_validate({"from": lo, "to": hi}))
        index += 1


def plan_windows(
    policy: WindowPolicy, planned_until: datetime | None, now: datetime, global_cap: int | None = None
) -> WindowPlan:
    """The windows due now, at most ``min(max_slices_per_run, global_cap)`` of them."""
    if policy.start >= now:
        return WindowPlan([], planned_until, "start_in_future")
    if planned_until is not None and now < planned_until + policy.cadence:
        return WindowPlan([], planned_until, "up_to_date")
    origin = policy.start if planned_until is None else max(policy.start, planned_until - policy.lookback)
    due = window_grid(policy, origin, now)
    if not due:
        return WindowPlan([], planned_until, "empty_range")
    cap = policy.max_slices_per_run if global_cap is None else min(policy.max_slices_per_run, global_cap)
    capped = len(due) > cap
    due = due[:cap]
    new_until = due[-1].end if planned_until is None else max(planned_until, due[-1].end)
    return WindowPlan(due, new_until, None, capped)


def backfill_windows(policy: WindowPolicy, start: datetime, end: datetime, cap: int) -> list[list[TimeWindow]]:
    """Windows of ``[start, end)`` on the source's grid, in runs of at most ``cap``."""
    windows = [w for w in window_grid(policy, max(start, policy.start), end) if w.start >= policy.start]
    return [windows[i : i + cap] for i in range(0, len(windows), max(cap, 1))]
