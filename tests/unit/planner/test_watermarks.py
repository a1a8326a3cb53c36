from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from headwater.contracts.messages import TimeWindow
from planner.domain.jobs import job_name_for, source_id_from_job_name
from planner.domain.watermarks import RunStatus, advance_completed, run_status_from_results

T0 = datetime(2026, 1, 1, tzinfo=UTC)
H = timedelta(hours=1)


def w(i: int) -> TimeWindow:
    return TimeWindow.model_validate({"from": T0 + i * H, "to": T0 + (i + 1) * H})


def test_completed_advances_across_contiguous_windows() -> None:
    assert advance_completed(T0, [w(0), w(1), w(2)], T0) == T0 + 3 * H


def test_a_gap_holds_completed_back() -> None:
    assert advance_completed(T0, [w(0), w(2), w(3)], T0) == T0 + 1 * H
    assert advance_completed(T0, [w(1), w(2)], T0) == T0


def test_completed_never_moves_backwards() -> None:
    assert advance_completed(T0 + 5 * H, [w(0), w(1)], T0) == T0 + 5 * H


def test_nothing_done_yet_leaves_it_unset() -> None:
    assert advance_completed(None, [w(2)], T0) is None
    assert advance_completed(None, [w(0)], T0) == T0 + H


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ({"a": "succeeded", "b": "duplicate"}, RunStatus.SUCCEEDED),
        ({"a": "succeeded"}, RunStatus.ENQUEUED),
        ({"a": "succeeded", "b": "failed"}, RunStatus.PARTIAL),
        ({"a": "partial", "b": "succeeded"}, RunStatus.PARTIAL),
        ({"a": "failed", "b": "failed"}, RunStatus.FAILED),
    ],
)
def test_run_status(results: dict[str, str], expected: RunStatus) -> None:
    assert run_status_from_results(["a", "b"], results) is expected


def test_job_names_round_trip() -> None:
    assert job_name_for("weather-api") == "source-weather-api"
    assert source_id_from_job_name("source-weather-api") == "weather-api"
    assert source_id_from_job_name("probe-1") is None
    assert source_id_from_job_name("source-") is None
