"""Who may take a source's planning lease."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from planner.domain.lease import Lease, can_take_lease

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
S = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("current", "owner", "expected"),
    [
        (None, "p1", True),
        (Lease("p2", NOW + S), "p1", False),  # someone else, still live
        (Lease("p2", NOW), "p1", False),  # expiring exactly now is still held ($lt, not $lte)
        (Lease("p2", NOW - S), "p1", True),  # expired
        (Lease("p1", NOW + S), "p1", True),  # re-entrant for its owner
        (Lease("p1", NOW - S), "p1", True),
    ],
)
def test_lease_decisions(current: Lease | None, owner: str, expected: bool) -> None:
    assert can_take_lease(current, owner, NOW) is expected
