"""worker.adapters.mongo_shapes: the stored documents, field by field and in order, as the
worker has always written them (integration tests and operators read these collections)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from worker.adapters.mongo_shapes import (
    audit_doc,
    audit_entry,
    changes_doc,
    current_record_doc,
    dataset_version,
    dataset_version_doc,
    dead_letter,
    dead_letter_doc,
    receipt,
    receipt_doc,
    record_changes,
    record_version,
    record_version_doc,
    rejection_doc,
)
from worker.domain.audit import AuditEntry, AuditReprocess, AuditRollback, AuditStep
from worker.domain.dead_letters import DeadLetter
from worker.domain.documents import DatasetVersion, Receipt, Rejection
from worker.domain.scd2 import RecordChange, RecordVersion

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 2, 1, tzinfo=UTC)
DOC_ID = "prices:abc"


def items(doc: dict[str, Any]) -> list[tuple[str, Any]]:
    return list(doc.items())


def test_a_claim_is_the_receipt_with_its_processing_state() -> None:
    receipt = Receipt(DOC_ID, "prices", "prices:t1", "r1", "page-1", "abc", "text/csv", 12, {"region": "n"}, T0, 3)
    assert items(receipt_doc(receipt, NOW)) == [
        ("_id", DOC_ID),
        ("source_id", "prices"),
        ("task_id", "prices:t1"),
        ("run_id", "r1"),
        ("document_key", "page-1"),
        ("content_hash", "abc"),
        ("content_type", "text/csv"),
        ("size_bytes", 12),
        ("linkage", {"region": "n"}),
        ("fetched_at", T0),
        ("config_version", 3),
        ("status", "processing"),
        ("claimed_at", NOW),
        ("first_seen_at", NOW),
        ("deliveries", 1),
    ]


CURRENT = RecordVersion("prices", "A", 2, "h2", {"price": 1.5}, T0, dataset_version=DOC_ID, updated_at=T0)


def test_a_current_record_and_its_closed_copy() -> None:
    assert items(current_record_doc(CURRENT)) == [
        ("_id", "prices:A"),
        ("source_id", "prices"),
        ("natural_key", "A"),
        ("version", 2),
        ("content_hash", "h2"),
        ("data", {"price": 1.5}),
        ("valid_from", T0),
        ("is_current", True),
        ("dataset_version", DOC_ID),
        ("fetched_at", None),
        ("updated_at", T0),
        ("seq", 2),
    ]  # no valid_to (current), no deleted (live): fewer fields, cheaper inserts
    assert items(record_version_doc(CURRENT.closed(NOW))) == [
        ("_id", "prices:A:v2"),
        ("source_id", "prices"),
        ("natural_key", "A"),
        ("version", 2),
        ("content_hash", "h2"),
        ("data", {"price": 1.5}),
        ("valid_from", T0),
        ("valid_to", NOW),
        ("is_current", False),
        ("dataset_version", DOC_ID),
        ("deleted", False),
        ("fetched_at", None),
    ]


def test_a_restored_version_is_a_current_record_with_the_old_content() -> None:
    old = record_version(record_version_doc(CURRENT.closed(NOW)), "prices")
    restored = current_record_doc(old.restored(4, NOW, f"{DOC_ID}:rollback"))
    assert restored == {
        "_id": "prices:A",
        "source_id": "prices",
        "natural_key": "A",
        "version": 4,
        "content_hash": "h2",
        "data": {"price": 1.5},
        "valid_from": NOW,
        "is_current": True,
        "dataset_version": f"{DOC_ID}:rollback",
        "fetched_at": None,
        "updated_at": NOW,
        "seq": 4,
    }


def test_records_read_back_with_an_aware_valid_from() -> None:
    naive = {**current_record_doc(CURRENT), "valid_from": datetime(2026, 1, 1)}
    assert record_version(naive, "prices") == replace(CURRENT, seq=2)


def test_current_documents_written_before_the_slim_shape_read_the_same() -> None:
    older = {**current_record_doc(CURRENT), "valid_to": None, "deleted": False}
    assert record_version(older, "prices") == record_version(current_record_doc(CURRENT), "prices")


def test_a_tombstone_and_its_closed_copy() -> None:
    stone = CURRENT.tombstone(3, NOW, "d2")
    doc = current_record_doc(stone)
    assert (doc["_id"], doc["version"], doc["deleted"], doc["is_current"], doc["data"], doc["seq"]) == (
        "prices:A",
        3,
        True,
        False,
        {},
        3,
    )
    assert record_version(doc, "prices") == stone
    assert record_version_doc(stone.closed(NOW))["_id"] == "prices:A:v3"


def test_a_rejected_row_and_an_unprocessable_document() -> None:
    row = Rejection(DOC_ID, "prices", "prices:t1", 3, "price", "not a number", '{"Price": "abc"}', NOW)
    whole = Rejection(DOC_ID, "prices", "prices:t1", 0, None, "invalid JSON", None, NOW)
    assert items(rejection_doc(row)) == [
        ("_id", f"{DOC_ID}:3:price"),
        ("source_id", "prices"),
        ("task_id", "prices:t1"),
        ("document_id", DOC_ID),
        ("row", 3),
        ("field", "price"),
        ("reason", "not a number"),
        ("excerpt", '{"Price": "abc"}'),
        ("logged_at", NOW),
    ]
    assert rejection_doc(whole)["_id"] == f"{DOC_ID}:0:document"
    assert (rejection_doc(whole)["field"], rejection_doc(whole)["excerpt"]) == (None, None)


def test_a_dataset_version_and_its_changes() -> None:
    version = DatasetVersion(DOC_ID, "prices", "prices:t1", NOW, {"rows": 2})
    assert items(dataset_version_doc(version)) == [
        ("_id", DOC_ID),
        ("source_id", "prices"),
        ("task_id", "prices:t1"),
        ("created_at", NOW),
        ("rolled_back_at", None),
        ("counts", {"rows": 2}),
        ("stream_id", None),
    ]
    assert dataset_version(dataset_version_doc(version)) == version
    changes = [RecordChange("A", 2, 1), RecordChange("B", 1, None), RecordChange("C", 4, 3, "deleted")]
    doc = changes_doc(DOC_ID, 7, changes)
    assert doc == {
        "_id": f"{DOC_ID}:000007",
        "version_id": DOC_ID,
        "batch": 7,
        "changes": [["A", 2, 1], ["B", 1, None], ["C", 4, 3, "deleted"]],
    }
    assert record_changes(doc) == changes


def test_audit_steps_and_rollbacks() -> None:
    step = AuditStep(DOC_ID, "prices", "prices:t1", "page-1", "store", "done", {"rows": 2}, NOW)
    rollback = AuditRollback(DOC_ID, "prices", NOW, 1, 2, 3)
    assert items(audit_doc(step)) == [
        ("_id", f"{DOC_ID}:store:done:prices:t1:page-1"),
        ("at", NOW),
        ("source_id", "prices"),
        ("task_id", "prices:t1"),
        ("document_id", DOC_ID),
        ("step", "store"),
        ("outcome", "done"),
        ("counts", {"rows": 2}),
        ("error", None),
    ]
    assert items(audit_doc(rollback)) == [
        ("_id", f"{DOC_ID}:rollback"),
        ("at", NOW),
        ("source_id", "prices"),
        ("document_id", DOC_ID),
        ("step", "rollback"),
        ("outcome", "done"),
        ("counts", {"restored": 1, "removed": 2, "conflicts": 3}),
    ]
    assert audit_entry(audit_doc(rollback)) == AuditEntry(
        NOW, "prices", DOC_ID, None, "rollback", "done", {"restored": 1, "removed": 2, "conflicts": 3}, None
    )


def test_a_reprocess_request_s_entry_carries_its_run() -> None:
    entry = AuditReprocess(DOC_ID, "prices", "prices:t1", "reprocess-1", "expired", NOW, 2, "gone")
    doc = audit_doc(entry)
    assert items(doc) == [
        ("_id", f"{DOC_ID}:reprocess:reprocess-1"),
        ("at", NOW),
        ("source_id", "prices"),
        ("task_id", "prices:t1"),
        ("document_id", DOC_ID),
        ("step", "reprocess"),
        ("outcome", "expired"),
        ("counts", {"config_version": 2}),
        ("error", "gone"),
        ("run_id", "reprocess-1"),
    ]
    assert audit_entry(doc) == AuditEntry(
        NOW, "prices", DOC_ID, "prices:t1", "reprocess", "expired", {"config_version": 2}, "gone"
    )


def test_a_receipt_reads_back_with_its_stream() -> None:
    window = "prices:2026-01-01T00:00:00+00:00/2026-01-02T00:00:00+00:00"
    kept = Receipt(DOC_ID, "prices", window, "r1", "page-1", "abc", "text/csv", 12, {"region": "n"}, T0, 3)
    back = receipt(receipt_doc(kept, NOW))
    assert back == replace(kept, stream="2026-01-01T00:00:00+00:00/2026-01-02T00:00:00+00:00|page-1")


def test_a_dead_letter() -> None:
    letter = DeadLetter("ev-1", "raw-documents", {"source_id": "prices"}, "prices", None, NOW)
    assert items(dead_letter_doc(letter)) == [
        ("_id", "ev-1"),
        ("topic", "raw-documents"),
        ("data", {"source_id": "prices"}),
        ("source_id", "prices"),
        ("task_id", None),
        ("received_at", NOW),
        ("replayed_at", None),
        ("cause", None),
        ("outcome", "parked"),
    ]
    assert dead_letter(dead_letter_doc(letter)) == letter
