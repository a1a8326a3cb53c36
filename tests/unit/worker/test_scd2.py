"""worker.domain.scd2: history decisions, deterministic ids, rollback planning."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from worker.domain.scd2 import (
    RecordChange,
    RollbackStep,
    StoredVersion,
    StorePolicy,
    current_id,
    decide,
    plan_rollback,
    version_id,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 2, 1, tzinfo=UTC)
CURRENT = StoredVersion("A-1", 3, "h1", T0)


def test_first_version_is_inserted() -> None:
    decision = decide(None, "h1", NOW)
    assert (decision.kind, decision.version, decision.valid_from, decision.closed) == ("insert_first", 1, NOW, None)


def test_same_content_is_unchanged() -> None:
    decision = decide(CURRENT, "h1", NOW)
    assert (decision.kind, decision.version, decision.valid_from, decision.closed) == ("unchanged", 3, T0, None)


def test_changed_content_closes_the_old_version_and_opens_the_next() -> None:
    decision = decide(CURRENT, "h2", NOW)
    assert (decision.kind, decision.version, decision.valid_from) == ("new_version", 4, NOW)
    assert decision.closed == StoredVersion("A-1", 3, "h1", T0, valid_to=NOW, is_current=False)


def test_history_none_overwrites_the_latest() -> None:
    assert decide(None, "h1", NOW, history="none").kind == "upsert_latest"
    latest = decide(CURRENT, "h2", NOW, history="none")
    assert (latest.kind, latest.version, latest.closed) == ("upsert_latest", 4, None)
    assert decide(CURRENT, "h1", NOW, history="none").kind == "unchanged"


def test_unknown_history_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown history 'full'; known: none, scd2"):
        decide(None, "h", NOW, history="full")
    with pytest.raises(ValueError, match="unknown history"):
        StorePolicy(key=["sku"], history="full")  # type: ignore[arg-type]
    assert StorePolicy(key=["sku"]).history == "scd2"


def test_deterministic_ids() -> None:
    assert current_id("prices", "A-1") == "prices:A-1"
    assert version_id("prices", "A-1", 4) == "prices:A-1:v4"


def test_rollback_restores_previous_versions_and_removes_created_records() -> None:
    changes = [RecordChange("A", 4, 3), RecordChange("B", 1, None)]
    assert plan_rollback(changes) == [RollbackStep("A", 3, 4), RollbackStep("B", None, 1)]


def test_rollback_of_a_key_touched_twice_restores_the_state_before_the_dataset() -> None:
    changes = [RecordChange("A", 1, None), RecordChange("B", 5, 4), RecordChange("A", 2, 1)]
    assert plan_rollback(changes) == [RollbackStep("A", None, 2), RollbackStep("B", 4, 5)]


def test_rollback_of_nothing() -> None:
    assert plan_rollback([]) == []
