"""Due time windows of a windowed source: the slice grid, planning and backfill.

The grid
    Windows are the cells of a grid of ``slice``-long steps counted from ``policy.start``.

    - Slices that are a whole number of days (``1d``, ``7d`` …) step in *calendar days* in
      ``policy.timezone``: every grid point is a local midnight, so the day of a DST change
      is 23 h (spring forward) or 25 h (fall back) long. Grid point 0 is the local midnight
      on or before ``start``; if ``start`` is not a local midnight, the first window is cut
      to begin at ``start`` (nothing before ``start`` is ever read, nothing after it lost).
    - Every other slice (sub-day, or an uneven ``36h``) has a fixed length and is counted
      from ``start`` in UTC; the timezone plays no part.

    Every window is a half-open ``[from, to)`` in UTC; the same grid yields the same
    windows, hence the same ``task_id_for`` ids, on every planning and every replica.

Planning (:func:`plan_windows`)
    Only whole windows whose end is not after ``now`` are due: the current, incomplete
    window is never planned. A first run starts at ``start``; later runs resume at the
    window holding ``planned_until`` and, with a ``lookback``, re-read the windows from
    ``max(start, planned_until - lookback)`` (aligned down to the grid) as well. At most
    ``min(max_slices_per_run, global_cap)`` windows are planned; new windows come first, so
    a lookback as long as the cap can never stop the watermark from advancing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from headwater.contracts.messages import TimeWindow

__all__ = ["SkipReason", "WindowPlan", "WindowPolicy", "backfill_windows", "plan_windows"]

DAY = timedelta(days=1)


@dataclass(frozen=True)
class WindowPolicy:
    """How a source's timeline is cut into windows (the domain's view of ``ingestion.window``).

    ``cadence``: how often new windows become due; ``start``: aware start of the first
    window; ``lookback``: how much before ``planned_until`` each run re-reads; ``slice``:
    window length; ``max_slices_per_run``: per-source cap; ``timezone``: IANA zone whose
    midnights bound whole-day slices. Raises ``ValueError`` on values that cannot plan.
    """

    cadence: timedelta
    start: datetime
    lookback: timedelta
    slice: timedelta
    max_slices_per_run: int
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        _require_aware(start=self.start)
        if self.cadence <= timedelta(0) or self.slice <= timedelta(0):
            raise ValueError("cadence and slice must be longer than 0s")
        if self.lookback < timedelta(0):
            raise ValueError("lookback must not be negative")
        if self.max_slices_per_run < 1:
            raise ValueError("max_slices_per_run must be at least 1")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {self.timezone!r}") from exc


class SkipReason(StrEnum):
    """Why a plan holds no window."""

    UP_TO_DATE = "up_to_date"  # planned_until + cadence is still ahead
    START_IN_FUTURE = "start_in_future"  # policy.start is after now
    EMPTY_RANGE = "empty_range"  # no new whole window has ended yet


@dataclass(frozen=True)
class WindowPlan:
    """The windows to publish now and where ``planned_until`` goes once they are published."""

    windows: list[TimeWindow]
    new_planned_until: datetime | None
    skipped_reason: SkipReason | None = None
    capped: bool = False


@dataclass(frozen=True)
class _Grid:
    """Grid points ``point(k)``, k >= 0, and the windows between them."""

    policy: WindowPolicy

    @property
    def _days(self) -> int | None:
        whole_days = self.policy.slice >= DAY and self.policy.slice % DAY == timedelta(0)
        return self.policy.slice // DAY if whole_days else None

    def point(self, index: int) -> datetime:
        days = self._days
        if days is None:
            return (self.policy.start + self.policy.slice * index).astimezone(UTC)
        zone = ZoneInfo(self.policy.timezone)
        day = self.policy.start.astimezone(zone).date() + timedelta(days=days * index)
        # fold=0: a midnight lost to DST resolves to the first instant of that day
        return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)

    def index_at(self, moment: datetime) -> int:
        """The index of the window holding ``moment`` (0 before the grid begins)."""
        if moment <= self.point(0):
            return 0
        index = (moment - self.point(0)) // self.policy.slice  # exact, or off by DST hours
        while index > 0 and self.point(index) > moment:
            index -= 1
        while self.point(index + 1) <= moment:
            index += 1
        return index

    def window(self, index: int) -> TimeWindow:
        start = max(self.point(index), self.policy.start.astimezone(UTC))
        return TimeWindow.model_validate({"from": start, "to": self.point(index + 1)})


def plan_windows(
    policy: WindowPolicy, planned_until: datetime | None, now: datetime, global_cap: int | None = None
) -> WindowPlan:
    """The windows due at ``now`` given the source's ``planned_until`` watermark.

    ``new_planned_until`` is the end of the last new window (never earlier than
    ``planned_until``), or ``planned_until`` unchanged when nothing is due; ``capped``
    tells that due windows were left for the next run. See the module docstring.
    """
    _require_aware(planned_until=planned_until, now=now)
    cap = _cap(policy.max_slices_per_run, global_cap)
    if policy.start > now:
        return WindowPlan([], planned_until, SkipReason.START_IN_FUTURE)
    if planned_until is not None and now < planned_until + policy.cadence:
        return WindowPlan([], planned_until, SkipReason.UP_TO_DATE)
    grid = _Grid(policy)
    resume = policy.start if planned_until is None else max(policy.start, planned_until)
    first_new = grid.index_at(resume)
    fresh = _whole_windows(grid, first_new, now, limit=cap + 1)
    capped = len(fresh) > cap
    del fresh[cap:]
    if not fresh:
        return WindowPlan([], planned_until, SkipReason.EMPTY_RANGE)
    reread: list[TimeWindow] = []
    if planned_until is not None and policy.lookback > timedelta(0):
        first_reread = grid.index_at(max(policy.start, planned_until - policy.lookback))
        room = cap - len(fresh)
        kept_from = max(first_reread, first_new - room)  # the re-reads nearest the watermark
        capped = capped or kept_from > first_reread
        reread = [grid.window(i) for i in range(kept_from, first_new)]
    new_until = fresh[-1].end if planned_until is None else max(planned_until, fresh[-1].end)
    return WindowPlan(reread + fresh, new_until, None, capped)


def backfill_windows(policy: WindowPolicy, start: datetime, end: datetime, cap: int) -> list[list[TimeWindow]]:
    """The grid windows of ``[start, end)`` in runs of at most ``cap`` windows each.

    ``start`` is aligned down to the grid (but never before ``policy.start``); only whole
    windows ending at or before ``end`` are included, so pass an ``end`` no later than now.
    Every window appears exactly once across the runs, in order.
    """
    _require_aware(start=start, end=end)
    if cap < 1:
        raise ValueError("cap must be at least 1")
    grid = _Grid(policy)
    begin = max(start, policy.start)
    windows = _whole_windows(grid, grid.index_at(begin), end) if begin < end else []
    return [windows[i : i + cap] for i in range(0, len(windows), cap)]


def _whole_windows(grid: _Grid, first: int, until: datetime, limit: int | None = None) -> list[TimeWindow]:
    """Consecutive windows from index ``first`` that end by ``until`` (at most ``limit``)."""
    windows: list[TimeWindow] = []
    index = first
    while limit is None or len(windows) < limit:
        window = grid.window(index)
        if window.end > until:
            break
        windows.append(window)
        index += 1
    return windows


def _cap(per_source: int, global_cap: int | None) -> int:
    if global_cap is not None and global_cap < 1:
        raise ValueError("global_cap must be at least 1")
    return per_source if global_cap is None else min(per_source, global_cap)


def _require_aware(**values: datetime | None) -> None:
    for name, value in values.items():
        if value is not None and value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware, got {value!r}")
