"""``headwater sources status``: the incremental cursor lines."""

from __future__ import annotations

from headwater_ops.cli.runs_cmds import cursor_lines

SPEC = {"cursor_path": "updated_at", "param": "since", "initial_value": "2026-01-01T00:00:00Z", "lag": "5m"}


def test_a_stored_cursor_and_the_next_fetch_minus_lag() -> None:
    view = {
        "value": "2026-02-01T10:00:00Z",
        "kind": "datetime",
        "updated_at": "2026-03-01T00:01:00+00:00",
        "task_id": "orders:manual-x",
        "next_start": "2026-02-01T10:00:00Z",
        "next_start_from": "cursor",
        "incremental": SPEC,
    }
    assert cursor_lines(view) == [
        "cursor          updated_at: 2026-02-01T10:00:00Z (stored 2026-03-01T00:01:00)",
        "next fetch      ?since=2026-02-01T10:00:00Z minus lag 5m (cursor)",
    ]


def test_before_any_cursor_the_initial_value_and_no_block_no_lines() -> None:
    view = {"value": None, "updated_at": None, "next_start": 0, "next_start_from": "initial_value"}
    spec = {"cursor_path": "seq", "param": "after", "initial_value": 0, "lag": 10}
    assert cursor_lines({**view, "incremental": spec}) == [
        "cursor          seq: -",
        "next fetch      ?after=0 (initial_value)",
    ]
    assert cursor_lines(None) == []
