"""Schedules: 5-field cron and descriptors in configs, Dapr's 6-field form on the wire."""

from __future__ import annotations

import pytest

from headwater.config import check_schedule, to_dapr_schedule


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
