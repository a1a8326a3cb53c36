"""The completed watermark and the run status derived from task results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from headwater.contracts.messages import TaskStatus, TimeWindow
from planner.domain.watermarks import RunStatus, advance_completed, run_status_from_results

T0 = datetime(2026, 1, 1, tzinfo=UTC)
H = timedelta(hours=1)
FAR = T0 + 100 * H  # planned far enough not to matter


def w(i: int, length: int = 1) -> TimeWindow:
    return TimeWindow.model_validate({"from": T0 + i * H, "to": T0 + (i + length) * H})


def test_completed_advances_across_contiguous_windows_in_any_order() -> None:
    assert advance_completed(T0, [w(2), w(0), w(1)], T0, planned_until=FAR) == T0 + 3 * H
    assert advance_completed(T0 + H, [w(1), w(1), w(2)], T0, planned_until=FAR) == T0 + 3 * H


def test_a_gap_holds_completed_back() -> None:
    assert advance_completed(T0, [w(0), w(2), w(3)], T0, planned_until=FAR) == T0 + H
    assert advance_completed(T0, [w(1), w(2)], T0, planned_until=FAR) == T0


def test_the_gap_filled_later_releases_the_windows_behind_it() -> None:
    held = advance_completed(T0, [w(0), w(2), w(3)], T0, planned_until=FAR)
    assert advance_completed(held, [w(0), w(1), w(2), w(3)], T0, planned_until=FAR) == T0 + 4 * H


def test_completed_never_moves_backwards() -> None:
    assert advance_completed(T0 + 5 * H, [w(0), w(1)], T0, planned_until=FAR) == T0 + 5 * H
    assert advance_completed(T0 + 5 * H, [], T0, planned_until=FAR) == T0 + 5 * H


def test_windows_straddling_the_mark_and_reread_windows_count() -> None:
    assert advance_completed(T0 + 2 * H, [w(1, 3)], T0, planned_until=FAR) == T0 + 4 * H
    assert advance_completed(T0 + 2 * H, [w(0), w(1), w(2)], T0, planned_until=FAR) == T0 + 3 * H


def test_unset_completed_starts_at_origin_and_stays_unset_without_progress() -> None:
    assert advance_completed(None, [w(2)], T0, planned_until=FAR) is None
    assert advance_completed(None, [], T0, planned_until=FAR) is None
    assert advance_completed(None, [w(0)], T0, planned_until=FAR) == T0 + H


def test_completed_never_passes_planned_until() -> None:
    assert advance_completed(T0, [w(0), w(1), w(2)], T0, planned_until=T0 + 2 * H) == T0 + 2 * H
    assert advance_completed(T0, [w(0, 5)], T0, planned_until=T0 + H) == T0 + H  # a window claiming more
    assert advance_completed(None, [w(0)], T0, planned_until=None) is None  # nothing planned: nothing complete
    assert advance_completed(T0 + H, [w(1)], T0, planned_until=None) == T0 + H
    assert advance_completed(T0 + 3 * H, [w(3)], T0, planned_until=T0 + H) == T0 + 3 * H  # never backwards


S, P, F, D = "succeeded", "partial", "failed", "duplicate"


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ({"a": S, "b": S}, RunStatus.SUCCEEDED),
        ({"a": S, "b": D}, RunStatus.SUCCEEDED),
        ({"a": D, "b": D}, RunStatus.SUCCEEDED),
        ({"a": S}, RunStatus.ENQUEUED),
        ({"a": F}, RunStatus.ENQUEUED),
        ({}, RunStatus.ENQUEUED),
        ({"a": S, "b": F}, RunStatus.PARTIAL),
        ({"a": D, "b": F}, RunStatus.PARTIAL),
        ({"a": P, "b": S}, RunStatus.PARTIAL),
        ({"a": P, "b": P}, RunStatus.PARTIAL),
        ({"a": P, "b": F}, RunStatus.PARTIAL),
        ({"a": F, "b": F}, RunStatus.FAILED),
        ({"a": S, "b": S, "other": F}, RunStatus.SUCCEEDED),
    ],
)
def test_run_status_table(results: dict[str, str], expected: RunStatus) -> None:
    assert run_status_from_results(["a", "b"], results) is expected


def test_run_status_accepts_task_status_values_and_skips_empty_runs() -> None:
    assert run_status_from_results(["a"], {"a": TaskStatus.DUPLICATE}) is RunStatus.SUCCEEDED
    assert run_status_from_results([], {}) is RunStatus.SKIPPED


def test_an_unknown_task_status_is_refused() -> None:
    with pytest.raises(ValueError):
        run_status_from_results(["a"], {"a": "done"})
