"""worker.domain.scd2: history decisions, tombstones, deterministic ids, net changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from worker.domain.records import record_content_hash
from worker.domain.scd2 import (
    Incoming,
    RecordChange,
    RecordVersion,
    current_id,
    deletions,
    merge,
    net_changes,
    version_id,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 2, 1, tzinfo=UTC)


def _record(key: str, version: int, data: dict[str, object], **extra: object) -> RecordVersion:
    return RecordVersion(
        "prices", key, version, record_content_hash(data), data, T0, dataset_version="d0", updated_at=T0, **extra
    )


def _merge(incoming: dict[str, dict[str, object]], current: dict[str, RecordVersion], history: str = "scd2"):  # type: ignore[no-untyped-def]
    return merge("prices", "d1", {k: Incoming(v) for k, v in incoming.items()}, current, NOW, history)


def test_first_version_is_inserted_and_same_content_is_unchanged() -> None:
    first = _merge({"A": {"p": 1}}, {})
    assert [(m.record.version, m.record.valid_from, m.expected_seq) for m in first.moves] == [(1, NOW, None)]
    assert first.changes == [RecordChange("A", 1, None, "created")] and first.archive == []
    assert _merge({"A": {"p": 1}}, {"A": _record("A", 3, {"p": 1})}).unchanged == 1


def test_merge_writes_only_what_changed() -> None:
    current = {"A": _record("A", 1, {"p": 1}), "B": _record("B", 3, {"p": 2})}
    plan = _merge({"A": {"p": 1}, "B": {"p": 5}, "C": {"p": 9}}, current)

    assert plan.unchanged == 1
    assert plan.changes == [RecordChange("B", 4, 3), RecordChange("C", 1, None)]
    assert plan.archive == [replace(current["B"], valid_to=NOW, is_current=False, updated_at=None)]
    assert [(m.record.natural_key, m.record.version, m.expected_seq) for m in plan.moves] == [
        ("B", 4, 3),
        ("C", 1, None),
    ]
    moved = plan.moves[0].record
    assert (moved.data, moved.valid_from, moved.valid_to, moved.is_current, moved.dataset_version) == (
        {"p": 5},
        NOW,
        None,
        True,
        "d1",
    )


def test_merge_without_history_overwrites_and_archives_nothing() -> None:
    plan = _merge({"B": {"p": 5}}, {"B": _record("B", 3, {"p": 2})}, history="none")
    assert plan.archive == [] and plan.changes == [RecordChange("B", 4, 3)]


def test_unknown_history_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown history 'full'; known: none, scd2"):
        _merge({}, {}, history="full")


def test_numbers_continue_after_the_highest_one_handed_out() -> None:
    plan = _merge({"A": {"p": 2}}, {"A": _record("A", 3, {"p": 1}, seq=5)})
    assert (plan.moves[0].record.version, plan.moves[0].expected_seq) == (6, 5)


def test_a_deleted_key_comes_back_as_created() -> None:
    tombstone = _record("A", 2, {"p": 1}).tombstone(2, T0, "d0")
    plan = _merge({"A": {"p": 1}}, {"A": tombstone})
    assert plan.changes == [RecordChange("A", 3, 2, "created")]
    assert plan.archive[0].deleted and plan.archive[0].valid_to == NOW


def test_deletions_close_the_live_version_and_leave_a_tombstone() -> None:
    live = _record("A", 2, {"p": 1})
    plan = deletions("d2", [live, live.tombstone(3, T0, "d1")], NOW)
    assert plan.changes == [RecordChange("A", 3, 2, "deleted")]
    assert plan.archive == [live.closed(NOW)]
    stone = plan.moves[0].record
    assert (stone.deleted, stone.is_current, stone.data, stone.valid_from, stone.version) == (True, False, {}, NOW, 3)


def test_a_deletion_never_ends_a_version_before_it_began() -> None:
    future = replace(_record("A", 1, {"p": 1}), valid_from=NOW + timedelta(days=3))
    assert deletions("d2", [future], NOW).archive[0].valid_to == NOW + timedelta(days=3)


def test_a_record_older_than_the_current_version_is_late() -> None:
    current = {"A": replace(_record("A", 2, {"p": 1}), valid_from=NOW)}
    plan = merge("prices", "d1", {"A": Incoming({"p": 0}, T0)}, current, NOW)
    assert plan.late == {"A": Incoming({"p": 0}, T0)} and plan.moves == [] and plan.changes == []
    newer = merge("prices", "d1", {"A": Incoming({"p": 3}, NOW + timedelta(days=1))}, current, NOW)
    assert newer.archive[0].valid_to == NOW + timedelta(days=1) and newer.moves[0].record.valid_from == (
        NOW + timedelta(days=1)
    )


def test_deterministic_ids() -> None:
    assert current_id("prices", "A-1") == "prices:A-1"
    assert version_id("prices", "A-1", 4) == "prices:A-1:v4"


def test_net_changes_span_from_before_the_first_change_to_after_the_last() -> None:
    changes = [RecordChange("A", 1, None), RecordChange("B", 5, 4), RecordChange("A", 2, 1)]
    assert net_changes(changes) == [RecordChange("A", 2, None, "updated"), RecordChange("B", 5, 4)]
    assert net_changes([]) == []
