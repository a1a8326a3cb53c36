"""Durations: text in YAML, timedelta in Python, canonical text when serialised."""

from __future__ import annotations

from datetime import timedelta

import pytest

from headwater.config import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "value", "canonical"),
    [
        ("0s", timedelta(0), "0s"),
        ("30s", timedelta(seconds=30), "30s"),
        ("15m", timedelta(minutes=15), "15m"),
        ("1h", timedelta(hours=1), "1h"),
        ("1d", timedelta(days=1), "1d"),
        ("1h30m", timedelta(minutes=90), "1h30m"),
        ("90m", timedelta(minutes=90), "1h30m"),
        (" 2d ", timedelta(days=2), "2d"),
    ],
)
def test_parse_and_format(text: str, value: timedelta, canonical: str) -> None:
    assert parse_duration(text) == value
    assert format_duration(value) == canonical


@pytest.mark.parametrize("text", ["", "1", "1 hour", "1.5h", "-1h", "h", "1w", 60])
def test_invalid_durations(text: object) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)
