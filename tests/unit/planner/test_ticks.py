"""Trigger keys of unwindowed sources: a redelivered trigger maps to the tick it belongs to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from headwater.config.schedule import DESCRIPTORS
from planner.domain.ticks import manual_key, tick_key

NOW = datetime(2026, 3, 4, 5, 6, 7, 890_000, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize(
    ("schedule", "now", "key"),
    [
        # @every: whole seconds counted from the Unix epoch; 1500ms is 1.5 s, so ticks are 1 s apart
        ("@every 1500ms", NOW, "tick-20260304T050607"),
        ("@every 1500ms", NOW + timedelta(seconds=1), "tick-20260304T050608"),
        # 90m = 5400 s; 2026-03-04T04:30:00Z is a multiple of 5400 s after the epoch
        ("@every 90m", NOW, "tick-20260304T043000"),
        ("@every 90m", datetime(2026, 3, 4, 5, 59, 59, tzinfo=UTC), "tick-20260304T043000"),
        ("@every 90m", datetime(2026, 3, 4, 6, 0, tzinfo=UTC), "tick-20260304T060000"),
        ("@every 1h30m", NOW, "tick-20260304T043000"),
        ("@every .5h", NOW, "tick-20260304T050000"),
        ("@every 30s", NOW, "tick-20260304T050600"),
        # cron and descriptors through croniter, in UTC
        ("0 6 * * *", NOW, "tick-20260303T060000"),
        ("*/15 * * * *", NOW, "tick-20260304T050000"),
        ("@hourly", NOW, "tick-20260304T050000"),
        ("@daily", NOW, "tick-20260304T000000"),
        ("@midnight", NOW, "tick-20260304T000000"),
        ("@weekly", NOW, "tick-20260301T000000"),
        ("@monthly", NOW, "tick-20260301T000000"),
        ("@yearly", NOW, "tick-20260101T000000"),
        ("@annually", NOW, "tick-20260101T000000"),
    ],
)
def test_tick_keys(schedule: str, now: datetime, key: str) -> None:
    assert tick_key(schedule, now) == key


def test_a_trigger_a_little_late_or_redelivered_keeps_its_tick() -> None:
    tick = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
    keys = {tick_key("0 6 * * *", tick + timedelta(seconds=s)) for s in (0, 2, 7, 3599)}
    assert keys == {"tick-20260101T060000"}


def test_a_trigger_exactly_on_its_tick_belongs_to_it() -> None:
    assert tick_key("@hourly", datetime(2026, 1, 1, 6, 0, tzinfo=UTC)) == "tick-20260101T060000"


@pytest.mark.parametrize("descriptor", DESCRIPTORS)
def test_every_descriptor_dapr_accepts_is_read_as_its_cron_form(descriptor: str) -> None:
    cron = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0"}
    expected = {"@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *", **cron}[descriptor]
    for now in (NOW, NOW + timedelta(days=40, hours=7)):
        assert tick_key(descriptor, now) == tick_key(expected, now)


@pytest.mark.parametrize("schedule", [None, "", "not a schedule", "@sometimes"])
def test_an_unreadable_schedule_keys_the_trigger_by_its_own_time(schedule: str | None) -> None:
    assert tick_key(schedule, NOW) == "tick-20260304T050607"


def test_manual_keys_are_to_the_microsecond() -> None:
    assert manual_key(NOW) == "manual-20260304T050607.890000Z"
