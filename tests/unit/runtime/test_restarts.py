"""The supervisor's restart rules: quick first restart, doubling waits in a crash loop, a cap,
and a new streak after a process stayed up long enough."""

from __future__ import annotations

import pytest

from headwater_ops.runtime.restarts import RestartPolicy, RestartRecord


def test_waits_double_from_the_first_restart_up_to_the_cap() -> None:
    policy = RestartPolicy(initial=0.5, factor=2.0, max_delay=30.0)

    assert [policy.delay(n) for n in range(1, 10)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_a_crash_loop_waits_longer_each_time_and_counts_every_restart() -> None:
    record = RestartRecord(RestartPolicy(initial=1.0, max_delay=8.0, reset_after=60.0))
    record.started(now=0.0)
    waits = []
    now = 0.0
    for _ in range(5):
        now += 2.0  # each run dies after 2 s, far below reset_after
        waits.append(record.exited(code=-9, now=now))
        assert not record.due(now)
        now = record.next_start_at or now
        assert record.due(now)
        record.started(now)

    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0]
    assert record.restarts == 5
    assert record.last_exit_code == -9


def test_a_process_that_stayed_up_starts_a_new_streak() -> None:
    record = RestartRecord(RestartPolicy(initial=0.5, reset_after=30.0))
    record.started(now=0.0)
    assert record.exited(code=1, now=1.0) == 0.5
    record.started(now=1.5)
    assert record.exited(code=1, now=2.0) == 1.0
    record.started(now=3.0)

    wait = record.exited(code=137, now=3.0 + 45.0)  # up 45 s: not a loop any more

    assert wait == 0.5
    assert record.streak == 1
    assert (record.restarts, record.last_exit_code, record.last_exit_at) == (2, 137, 48.0)


def test_first_start_is_not_a_restart_and_nothing_is_due_while_running() -> None:
    record = RestartRecord()
    record.started(now=10.0)

    assert record.restarts == 0
    assert not record.due(1e9)
    assert record.as_dict()["started_at"] == 10.0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"initial": -1.0}, "initial"),
        ({"factor": 0.5}, "factor"),
        ({"initial": 5.0, "max_delay": 1.0}, "max_delay"),
        ({"reset_after": 0.0}, "reset_after"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_field(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        RestartPolicy(**kwargs)
