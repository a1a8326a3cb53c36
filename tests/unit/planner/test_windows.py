"""Window planning: the slice grid, due windows, lookback, caps, skips, DST, backfill."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from headwater.contracts.messages import TimeWindow, task_id_for
from planner.domain.windows import SkipReason, WindowPolicy, backfill_windows, plan_windows

H = timedelta(hours=1)
D = timedelta(days=1)
START = datetime(2026, 1, 1, tzinfo=UTC)


def policy(**overrides: object) -> WindowPolicy:
    fields: dict[str, object] = {
        "cadence": H,
        "start": START,
        "lookback": timedelta(0),
        "slice": H,
        "max_slices_per_run": 24,
        "timezone": "UTC",
    }
    fields.update(overrides)
    return WindowPolicy(**fields)  # type: ignore[arg-type]


def hours(windows: list[TimeWindow]) -> list[tuple[float, float]]:
    """Windows as (from, to) hours after START."""
    return [((w.start - START) / H, (w.end - START) / H) for w in windows]


def test_first_run_starts_at_start_and_plans_only_whole_windows() -> None:
    plan = plan_windows(policy(), None, START + timedelta(hours=3, minutes=30))
    assert hours(plan.windows) == [(0, 1), (1, 2), (2, 3)]
    assert plan.new_planned_until == START + 3 * H
    assert plan.skipped_reason is None and not plan.capped


def test_a_window_ending_exactly_now_is_due() -> None:
    assert hours(plan_windows(policy(), None, START + 2 * H).windows) == [(0, 1), (1, 2)]


def test_windows_are_utc_and_half_open_on_the_grid() -> None:
    p = policy(start=datetime(2026, 1, 1, 1, 30, tzinfo=UTC), slice=timedelta(minutes=30))
    windows = plan_windows(p, None, datetime(2026, 1, 1, 3, 10, tzinfo=UTC)).windows
    assert [(w.start.isoformat(), w.end.isoformat()) for w in windows] == [
        ("2026-01-01T01:30:00+00:00", "2026-01-01T02:00:00+00:00"),
        ("2026-01-01T02:00:00+00:00", "2026-01-01T02:30:00+00:00"),
        ("2026-01-01T02:30:00+00:00", "2026-01-01T03:00:00+00:00"),
    ]
    assert all(w.start.utcoffset() == timedelta(0) for w in windows)
    assert all(a.end == b.start for a, b in pairwise(windows))


def test_next_run_resumes_at_the_watermark() -> None:
    plan = plan_windows(policy(), START + 3 * H, START + 5 * H + timedelta(minutes=1))
    assert hours(plan.windows) == [(3, 4), (4, 5)]
    assert plan.new_planned_until == START + 5 * H


def test_a_watermark_off_the_grid_resumes_at_the_window_holding_it() -> None:
    plan = plan_windows(policy(), START + timedelta(hours=2, minutes=30), START + 4 * H)
    assert hours(plan.windows) == [(2, 3), (3, 4)]


def test_lookback_rereads_the_windows_before_the_watermark() -> None:
    plan = plan_windows(policy(lookback=2 * H), START + 5 * H, START + 6 * H)
    assert hours(plan.windows) == [(3, 4), (4, 5), (5, 6)]
    assert plan.new_planned_until == START + 6 * H


def test_lookback_is_aligned_down_to_the_grid_and_never_before_start() -> None:
    aligned = plan_windows(policy(lookback=timedelta(minutes=90)), START + 5 * H, START + 6 * H)
    assert hours(aligned.windows) == [(3, 4), (4, 5), (5, 6)]
    clipped = plan_windows(policy(lookback=10 * H), START + 2 * H, START + 3 * H)
    assert hours(clipped.windows) == [(0, 1), (1, 2), (2, 3)]


def test_lookback_alone_is_not_due_without_a_new_whole_window() -> None:
    p = policy(cadence=timedelta(minutes=15), lookback=2 * H)
    plan = plan_windows(p, START + 5 * H, START + 5 * H + timedelta(minutes=30))
    assert plan.windows == [] and plan.skipped_reason is SkipReason.EMPTY_RANGE
    assert plan.new_planned_until == START + 5 * H


def test_per_source_cap_leaves_the_rest_for_the_next_run() -> None:
    now = START + 48 * H
    first = plan_windows(policy(max_slices_per_run=5), None, now)
    assert hours(first.windows) == [(i, i + 1) for i in range(5)] and first.capped
    assert first.new_planned_until == START + 5 * H
    second = plan_windows(policy(max_slices_per_run=5), first.new_planned_until, now)
    assert hours(second.windows)[0] == (5, 6)


def test_global_cap_wins_when_smaller_and_is_ignored_when_larger() -> None:
    now = START + 48 * H
    capped = plan_windows(policy(max_slices_per_run=5), None, now, global_cap=3)
    assert len(capped.windows) == 3 and capped.capped
    assert capped.new_planned_until == START + 3 * H
    assert len(plan_windows(policy(max_slices_per_run=5), None, now, global_cap=100).windows) == 5


def test_exactly_cap_due_windows_is_not_capped() -> None:
    plan = plan_windows(policy(max_slices_per_run=3), None, START + 3 * H)
    assert len(plan.windows) == 3 and not plan.capped


def test_under_a_cap_new_windows_come_before_rereads_so_the_watermark_always_moves() -> None:
    p = policy(lookback=5 * H, max_slices_per_run=3)
    behind = plan_windows(p, START + 10 * H, START + 20 * H)
    assert hours(behind.windows) == [(10, 11), (11, 12), (12, 13)] and behind.capped
    assert behind.new_planned_until == START + 13 * H
    nearly = plan_windows(p, START + 10 * H, START + 11 * H)
    assert hours(nearly.windows) == [(8, 9), (9, 10), (10, 11)] and nearly.capped


def test_up_to_date_until_the_cadence_has_passed() -> None:
    p = policy(cadence=3 * H)
    early = plan_windows(p, START + 3 * H, START + 5 * H + timedelta(minutes=59))
    assert early.windows == [] and early.skipped_reason is SkipReason.UP_TO_DATE
    assert early.new_planned_until == START + 3 * H
    due = plan_windows(p, START + 3 * H, START + 6 * H)
    assert hours(due.windows) == [(3, 4), (4, 5), (5, 6)]


def test_start_in_the_future() -> None:
    plan = plan_windows(policy(), None, START - H)
    assert plan.windows == [] and plan.skipped_reason is SkipReason.START_IN_FUTURE
    assert plan.new_planned_until is None
    moved = plan_windows(policy(start=START + 10 * H), START + 2 * H, START + 5 * H)
    assert moved.skipped_reason is SkipReason.START_IN_FUTURE and moved.new_planned_until == START + 2 * H


def test_empty_range_while_the_first_window_is_incomplete() -> None:
    for now in (START, START + timedelta(minutes=59)):
        plan = plan_windows(policy(), None, now)
        assert plan.windows == [] and plan.skipped_reason == "empty_range"
        assert plan.new_planned_until is None


def test_a_start_moved_past_the_watermark_resumes_at_start() -> None:
    plan = plan_windows(policy(start=START + 10 * H), START + 2 * H, START + 12 * H)
    assert hours(plan.windows) == [(10, 11), (11, 12)]


def berlin_days(windows: list[TimeWindow]) -> list[tuple[str, float]]:
    return [(w.start.isoformat(), (w.end - w.start) / H) for w in windows]


def test_daily_slices_spring_forward_in_berlin_make_a_23_hour_day() -> None:
    start = datetime(2026, 3, 27, 23, tzinfo=UTC)  # 28 March 00:00 CET
    p = policy(slice=D, cadence=D, start=start, timezone="Europe/Berlin")
    plan = plan_windows(p, None, datetime(2026, 3, 31, 12, tzinfo=UTC))
    assert berlin_days(plan.windows) == [
        ("2026-03-27T23:00:00+00:00", 24),
        ("2026-03-28T23:00:00+00:00", 23),  # 29 March: 02:00 CET → 03:00 CEST
        ("2026-03-29T22:00:00+00:00", 24),
    ]
    assert plan.new_planned_until == datetime(2026, 3, 30, 22, tzinfo=UTC)


def test_daily_slices_fall_back_in_berlin_make_a_25_hour_day() -> None:
    start = datetime(2026, 10, 23, 22, tzinfo=UTC)  # 24 October 00:00 CEST
    p = policy(slice=D, cadence=D, start=start, timezone="Europe/Berlin")
    plan = plan_windows(p, datetime(2026, 10, 24, 22, tzinfo=UTC), datetime(2026, 10, 27, 12, tzinfo=UTC))
    assert berlin_days(plan.windows) == [
        ("2026-10-24T22:00:00+00:00", 25),  # 25 October: 03:00 CEST → 02:00 CET
        ("2026-10-25T23:00:00+00:00", 24),
    ]


def test_the_day_of_the_change_is_due_only_once_it_has_wholly_passed() -> None:
    start = datetime(2026, 10, 24, 22, tzinfo=UTC)  # 25 October 00:00 CEST, a 25-hour day
    p = policy(slice=D, cadence=D, start=start, timezone="Europe/Berlin")
    assert plan_windows(p, None, start + 24 * H).skipped_reason is SkipReason.EMPTY_RANGE
    assert berlin_days(plan_windows(p, None, start + 25 * H).windows) == [("2026-10-24T22:00:00+00:00", 25)]


def test_daily_slices_align_to_local_midnight_and_cut_the_first_window_at_start() -> None:
    p = policy(slice=D, cadence=D, start=START, timezone="Europe/Berlin")  # 01:00 Berlin
    plan = plan_windows(p, None, datetime(2026, 1, 3, tzinfo=UTC))
    assert berlin_days(plan.windows) == [("2026-01-01T00:00:00+00:00", 23), ("2026-01-01T23:00:00+00:00", 24)]


def test_weekly_slices_step_in_calendar_weeks_across_dst() -> None:
    start = datetime(2026, 3, 22, 23, tzinfo=UTC)  # Monday 23 March 00:00 CET
    p = policy(slice=7 * D, cadence=7 * D, start=start, timezone="Europe/Berlin")
    plan = plan_windows(p, None, datetime(2026, 4, 7, tzinfo=UTC))
    assert berlin_days(plan.windows) == [("2026-03-22T23:00:00+00:00", 7 * 24 - 1), ("2026-03-29T22:00:00+00:00", 168)]


def test_sub_day_slices_are_fixed_utc_steps_even_in_a_dst_zone() -> None:
    start = datetime(2026, 3, 29, 0, tzinfo=UTC)
    p = policy(slice=H, start=start, timezone="Europe/Berlin")
    windows = plan_windows(p, None, start + 4 * H).windows
    assert [w.start.hour for w in windows] == [0, 1, 2, 3]
    assert all(w.end - w.start == H for w in windows)


def test_uneven_multi_day_slices_are_fixed_length() -> None:
    p = policy(slice=36 * H, cadence=36 * H, timezone="Europe/Berlin")
    assert hours(plan_windows(p, None, START + 80 * H).windows) == [(0, 36), (36, 72)]


def test_task_ids_are_deterministic() -> None:
    a = plan_windows(policy(), None, START + 2 * H).windows
    b = plan_windows(policy(), START, START + 2 * H).windows
    assert [task_id_for("s", w) for w in a] == [task_id_for("s", w) for w in b]
    assert task_id_for("s", a[0]) == "s:2026-01-01T00:00:00+00:00/2026-01-01T01:00:00+00:00"
    reread = plan_windows(policy(lookback=H), START + 2 * H, START + 3 * H).windows
    assert task_id_for("s", reread[0]) == task_id_for("s", a[1])


def test_a_start_in_another_offset_gives_the_same_utc_windows() -> None:
    berlin_start = datetime.fromisoformat("2026-01-01T01:00:00+01:00")
    assert plan_windows(policy(start=berlin_start), None, START + 2 * H).windows == (
        plan_windows(policy(), None, START + 2 * H).windows
    )


def test_backfill_plans_every_window_exactly_once_in_capped_runs() -> None:
    runs = backfill_windows(policy(), START + 2 * H, START + 12 * H, cap=4)
    assert [len(r) for r in runs] == [4, 4, 2]
    flat = [w for run in runs for w in run]
    assert hours(flat) == [(i, i + 1) for i in range(2, 12)]
    assert all(a.end == b.start for a, b in pairwise(flat))


def test_backfill_aligns_start_down_keeps_whole_windows_and_stays_after_start() -> None:
    runs = backfill_windows(policy(start=START + 2 * H), START + timedelta(minutes=150), START + 6.5 * H, cap=10)
    assert [hours(r) for r in runs] == [[(2, 3), (3, 4), (4, 5), (5, 6)]]
    early = backfill_windows(policy(start=START + 2 * H), START - D, START + 4 * H, cap=10)
    assert [hours(r) for r in early] == [[(2, 3), (3, 4)]]


def test_backfill_uses_the_same_grid_as_planning() -> None:
    p = policy(slice=D, cadence=D, start=datetime(2026, 3, 27, 23, tzinfo=UTC), timezone="Europe/Berlin")
    end = datetime(2026, 3, 31, tzinfo=UTC)
    runs = backfill_windows(p, p.start, end, cap=2)
    assert [w for run in runs for w in run] == plan_windows(p, None, end).windows
    assert [len(r) for r in runs] == [2, 1]


def test_backfill_of_an_empty_range_has_no_runs() -> None:
    assert backfill_windows(policy(), START + 5 * H, START + 5 * H, cap=3) == []
    assert backfill_windows(policy(), START + 5 * H, START + 2 * H, cap=3) == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"start": datetime(2026, 1, 1)},
        {"slice": timedelta(0)},
        {"cadence": -H},
        {"lookback": -H},
        {"max_slices_per_run": 0},
        {"timezone": "Mars/Olympus"},
    ],
)
def test_a_policy_that_cannot_plan_is_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        policy(**overrides)


def test_naive_times_and_bad_caps_are_refused() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        plan_windows(policy(), None, datetime(2026, 1, 2))
    with pytest.raises(ValueError, match="global_cap"):
        plan_windows(policy(), None, START + H, global_cap=0)
    with pytest.raises(ValueError, match="cap"):
        backfill_windows(policy(), START, START + H, cap=0)


@pytest.mark.parametrize(("slice_", "zone"), [(D, "Europe/Berlin"), (H, "Europe/Berlin"), (D, "UTC")])
def test_repeated_runs_cover_a_year_once_without_gaps_and_match_backfill(slice_: timedelta, zone: str) -> None:
    p = policy(slice=slice_, cadence=slice_, start=datetime(2025, 12, 31, 23, tzinfo=UTC), timezone=zone)
    now, until = datetime(2027, 1, 1, 5, tzinfo=UTC), None
    planned: list[TimeWindow] = []
    while (plan := plan_windows(p, until, now, global_cap=50)).windows:
        planned += plan.windows
        until = plan.new_planned_until
    assert all(a.end == b.start for a, b in pairwise(planned))
    assert planned[0].start == p.start and until is not None and now - until < 25 * H
    assert planned == [w for run in backfill_windows(p, p.start, now, cap=50) for w in run]
    if slice_ == D and zone == "Europe/Berlin":
        lengths = sorted((w.end - w.start) / H for w in planned)
        assert lengths.count(23) == 1 and lengths.count(25) == 1 and len(planned) == 365  # all of 2026
