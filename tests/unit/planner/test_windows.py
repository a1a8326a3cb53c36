from __future__ import annotations

from datetime import UTC, datetime, timedelta

from headwater.contracts.messages import TimeWindow, task_id_for
from planner.domain.windows import WindowPolicy, backfill_windows, plan_windows

H = timedelta(hours=1)
START = datetime(2026, 1, 1, tzinfo=UTC)


def policy(**kw: object) -> WindowPolicy:
    base: dict[str, object] = {
        "cadence": H,
        "start": START,
        "lookback": timedelta(0),
        "slice": H,
        "max_slices_per_run": 24,
        "timezone": "UTC",
    }
    base.update(kw)
    return WindowPolicy(**base)  # type: ignore[arg-type]


def bounds(windows: list[TimeWindow]) -> list[tuple[str, str]]:
    return [(w.start.isoformat(), w.end.isoformat()) for w in windows]


def test_first_run_starts_at_start_and_plans_only_whole_windows() -> None:
    plan = plan_windows(policy(), None, START + timedelta(hours=3, minutes=30))
    assert bounds(plan.windows) == [
        ("2026-01-01T00:00:00+00:00", "2026-01-01T01:00:00+00:00"),
        ("2026-01-01T01:00:00+00:00", "2026-01-01T02:00:00+00:00"),
        ("2026-01-01T02:00:00+00:00", "2026-01-01T03:00:00+00:00"),
    ]
    assert plan.new_planned_until == START + 3 * H


def test_next_run_continues_at_the_watermark() -> None:
    plan = plan_windows(policy(), START + 3 * H, START + 5 * H)
    assert [w.start for w in plan.windows] == [START + 3 * H, START + 4 * H]


def test_lookback_rereads_late_data_before_the_watermark() -> None:
    plan = plan_windows(policy(lookback=2 * H), START + 5 * H, START + 6 * H)
    assert [w.start for w in plan.windows] == [START + 3 * H, START + 4 * H, START + 5 * H]
    assert plan.new_planned_until == START + 6 * H


def test_cap_per_source_and_global_cap() -> None:
    now = START + 48 * H
    assert len(plan_windows(policy(max_slices_per_run=5), None, now).windows) == 5
    capped = plan_windows(policy(max_slices_per_run=5), None, now, global_cap=3)
    assert len(capped.windows) == 3 and capped.capped
    assert capped.new_planned_until == START + 3 * H


def test_up_to_date_source_is_skipped() -> None:
    plan = plan_windows(policy(), START + 3 * H, START + 3 * H + timedelta(minutes=59))
    assert plan.windows == [] and plan.skipped_reason == "up_to_date"
    assert plan.new_planned_until == START + 3 * H


def test_start_in_the_future_and_empty_range() -> None:
    assert plan_windows(policy(), None, START - H).skipped_reason == "start_in_future"
    assert plan_windows(policy(), None, START + timedelta(minutes=30)).skipped_reason == "empty_range"


def test_daily_slices_follow_local_midnight_across_dst() -> None:
    start = datetime(2026, 3, 28, tzinfo=UTC).replace(hour=0) - timedelta(hours=1)  # 00:00 Berlin (CET)
    p = policy(slice=timedelta(days=1), cadence=timedelta(days=1), start=start, timezone="Europe/Berlin")
    plan = plan_windows(p, None, datetime(2026, 3, 31, tzinfo=UTC))
    lengths = [(w.end - w.start) for w in plan.windows]
    assert lengths[:2] == [timedelta(hours=24), timedelta(hours=23)]  # 29 March: spring forward
    autumn = datetime(2026, 10, 23, 22, tzinfo=UTC)  # 00:00 Berlin (CEST)
    p2 = policy(slice=timedelta(days=1), cadence=timedelta(days=1), start=autumn, timezone="Europe/Berlin")
    plan2 = plan_windows(p2, None, datetime(2026, 10, 27, tzinfo=UTC))
    assert [(w.end - w.start) for w in plan2.windows][:2] == [timedelta(hours=24), timedelta(hours=25)]


def test_task_ids_are_deterministic() -> None:
    a = plan_windows(policy(), None, START + 2 * H).windows
    b = plan_windows(policy(), None, START + 2 * H).windows
    assert [task_id_for("s", w) for w in a] == [task_id_for("s", w) for w in b]
    assert task_id_for("s", a[0]) == "s:2026-01-01T00:00:00+00:00/2026-01-01T01:00:00+00:00"


def test_backfill_plans_every_window_exactly_once_in_capped_runs() -> None:
    runs = backfill_windows(policy(), START + 2 * H, START + 12 * H, cap=4)
    flat = [w.start for run in runs for w in run]
    assert [len(r) for r in runs] == [4, 4, 2]
    assert flat == [START + i * H for i in range(2, 12)]
    assert len(set(flat)) == len(flat)
