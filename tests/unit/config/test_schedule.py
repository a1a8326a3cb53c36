"""Schedules: 5-field cron and descriptors in configs, Dapr's 6-field form on the wire."""

from __future__ import annotations

import pytest
from croniter import croniter

from headwater.config import check_schedule, to_dapr_schedule
from headwater.config.schedule import DESCRIPTORS, go_duration_seconds


@pytest.mark.parametrize(
    ("schedule", "zone", "expected"),
    [
        ("0 6 * * *", "UTC", "0 0 6 * * *"),
        ("*/15 * * * 1-5", "UTC", "0 */15 * * * 1-5"),
        ("0 6 * * MON-FRI", "Etc/UTC", "0 0 6 * * MON-FRI"),
        ("  0   6 * *  * ", "UTC", "0 0 6 * * *"),
        ("0 6 * * *", "Europe/Berlin", "CRON_TZ=Europe/Berlin 0 0 6 * * *"),
        ("30 2 1 JAN,JUL ?", "America/New_York", "CRON_TZ=America/New_York 0 30 2 1 JAN,JUL ?"),
        ("@every 30s", "UTC", "@every 30s"),
        ("@every 1h30m", "Europe/Berlin", "@every 1h30m"),
        ("@hourly", "Europe/Berlin", "@hourly"),
        ("@daily", "UTC", "@daily"),
        ("@weekly", "UTC", "@weekly"),
        ("@monthly", "UTC", "@monthly"),
        ("@yearly", "UTC", "@yearly"),
    ],
)
def test_schedules_convert_to_dapr_form(schedule: str, zone: str, expected: str) -> None:
    assert to_dapr_schedule(schedule, zone) == expected


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("0 0 6 * * *", "expected a 5-field cron expression (minute hour day-of-month month day-of-week), got 6"),
        ("6 * *", "got 3 fields"),
        ("61 * * * *", "not a valid cron expression"),
        ("0 6 * * 1#2", "not supported by Dapr's scheduler"),
        ("0 6 L * *", "day-of-month 'L' is not supported by Dapr's scheduler"),
        ("@every", "write @every <duration>"),
        ("@every1h", "write @every <duration>"),
        ("@every 1d", "'1d' is not a duration"),
        ("@every 500ms", "@every needs at least 1s"),
        ("@sometimes", "unknown descriptor; use one of @yearly"),
    ],
)
def test_invalid_schedules_say_why(schedule: str, message: str) -> None:
    with pytest.raises(ValueError, match="invalid schedule") as err:
        check_schedule(schedule)
    assert message in str(err.value)


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown timezone 'Nowhere/City'"):
        to_dapr_schedule("0 6 * * *", "Nowhere/City")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1500ms", 1.5),
        (".5h", 1800.0),
        ("1h30m", 5400.0),
        ("1.5h", 5400.0),
        ("90m", 5400.0),
        ("30s", 30.0),
        ("2h45m30s", 9930.0),
        ("1m500ms", 60.5),
        ("5.s", 5.0),
        ("250us", 0.00025),
        ("250µs", 0.00025),
        ("100ns", 1e-7),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    """The one Go-duration parser (``@every``): Go's units and fractions, ``ms`` before ``m``."""
    assert go_duration_seconds(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "1", "h", "1d", "1w", "1h 30m", " 1h", "1h ", "-1h", "1.5", "1hh", "1e3s"])
def test_texts_that_are_not_go_durations(text: str) -> None:
    assert go_duration_seconds(text) is None


@pytest.mark.parametrize(("schedule", "expected"), [("@every 1500ms", "@every 1500ms"), ("@every .5h", "@every .5h")])
def test_every_with_fractions_and_milliseconds_passes_to_dapr_unchanged(schedule: str, expected: str) -> None:
    assert to_dapr_schedule(schedule) == expected


@pytest.mark.parametrize("descriptor", DESCRIPTORS)
def test_every_descriptor_dapr_accepts_is_valid_and_read_by_croniter(descriptor: str) -> None:
    assert check_schedule(descriptor) == descriptor
    assert croniter.is_valid(descriptor)
