"""Dapr Job names of sources."""

from __future__ import annotations

import pytest

from planner.domain.jobs import job_name_for, source_id_from_job_name


@pytest.mark.parametrize("source_id", ["weather-api", "a", "orders_2026", "0" * 63])
def test_job_names_round_trip_and_hold_no_forbidden_characters(source_id: str) -> None:
    name = job_name_for(source_id)
    assert name == f"source-{source_id}"
    assert not set(name) & set("/\\#?")
    assert source_id_from_job_name(name) == source_id


@pytest.mark.parametrize("source_id", ["", "Weather", "a/b", "a#b", "a?b", "a\\b", "-a", "a" * 64])
def test_a_non_slug_source_id_has_no_job_name(source_id: str) -> None:
    with pytest.raises(ValueError, match="not a slug"):
        job_name_for(source_id)


@pytest.mark.parametrize("name", ["probe-1", "source-", "source-A/b", "sources-x", "x-source-a"])
def test_names_that_are_not_a_sources_job(name: str) -> None:
    assert source_id_from_job_name(name) is None
