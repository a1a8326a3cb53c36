"""The stored shapes of records, raw documents, dataset versions, audit entries and dead
letters: domain object → MongoDB document and back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from worker.domain.audit import AuditEntry, AuditReprocess, AuditRollback, AuditStep
from worker.domain.dead_letters import DeadLetter
from worker.domain.documents import DatasetVersion, Receipt, Rejection
from worker.domain.scd2 import RecordChange, RecordVersion, current_id, version_id
from worker.domain.streams import stream_key

__all__ = [
    "audit_doc",
    "audit_entry",
    "changes_doc",
    "current_record_doc",
    "dataset_version",
    "dataset_version_doc",
    "dead_letter",
    "dead_letter_doc",
    "raw_begin",
    "receipt",
    "receipt_doc",
    "record_changes",
    "record_version",
    "record_version_doc",
    "rejection_doc",
]

Doc = dict[str, Any]


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def receipt_doc(receipt: Receipt, now: datetime) -> Doc:
    """``raw_documents``: a new claim (``status`` processing)."""
    r = receipt
    return {
        "_id": r.document_id,
        "source_id": r.source_id,
        "task_id": r.task_id,
        "run_id": r.run_id,
        "document_key": r.document_key,
        "content_hash": r.content_hash,
        "content_type": r.content_type,
        "size_bytes": r.size_bytes,
        "linkage": r.linkage,
        "fetched_at": r.fetched_at,
        "config_version": r.config_version,
        "status": "processing",
        "claimed_at": now,
        "first_seen_at": now,
        "deliveries": 1,
    }


def receipt(doc: Doc) -> Receipt:
    """The receipt of a content's first sighting, as ``raw_documents`` keeps it."""
    source_id, task_id, key, linkage = doc["source_id"], doc["task_id"], doc["document_key"], doc.get("linkage") or {}
    return Receipt(
        document_id=doc["_id"],
        source_id=source_id,
        task_id=task_id,
        run_id=doc.get("run_id"),
        document_key=key,
        content_hash=doc["content_hash"],
        content_type=doc["content_type"],
        size_bytes=doc["size_bytes"],
        linkage=linkage,
        fetched_at=aware(doc["fetched_at"]),
        config_version=doc.get("config_version", 0),
        stream=stream_key(source_id, task_id, key, linkage),
    )


def raw_begin(receipt: Receipt, occurrence: str, now: datetime) -> Doc:
    """``raw_documents``: the update that marks ``occurrence`` of a content processing (the
    receipt of its first sighting is kept as inserted)."""
    first = {
        k: v for k, v in receipt_doc(receipt, now).items() if k not in ("_id", "status", "claimed_at", "deliveries")
    }
    return {
        "$setOnInsert": first,
        "$set": {"status": "processing", "claimed_at": now, "occurrence": occurrence},
        "$inc": {"deliveries": 1},
    }


def _record_fields(v: RecordVersion) -> Doc:
    return {
        "source_id": v.source_id,
        "natural_key": v.natural_key,
        "version": v.version,
        "content_hash": v.content_hash,
        "data": v.data,
        "valid_from": v.valid_from,
        "valid_to": v.valid_to,
        "is_current": v.is_current,
        "dataset_version": v.dataset_version,
        "deleted": v.deleted,
        "fetched_at": v.fetched_at,
    }


def current_record_doc(v: RecordVersion) -> Doc:
    """``records``: the current version of a key, or its tombstone (``_id`` = ``<source>:<key>``);
    ``seq`` is the highest version number handed out for the key. A current document has no
    ``valid_to`` and, while live, no ``deleted`` (every field costs each insert; readers take the
    defaults, ``$ne: true`` finds the live ones)."""
    doc = {"_id": current_id(v.source_id, v.natural_key), **_record_fields(v), "updated_at": v.updated_at}
    doc["seq"] = v.last_number
    del doc["valid_to"]
    if not v.deleted:
        del doc["deleted"]
    return doc


def record_version_doc(v: RecordVersion) -> Doc:
    """``record_versions``: a closed version (``_id`` = ``<source>:<key>:v<n>``)."""
    return {"_id": version_id(v.source_id, v.natural_key, v.version), **_record_fields(v)}


def record_version(doc: Doc, source_id: str) -> RecordVersion:
    """A ``records`` or ``record_versions`` document of ``source_id``."""
    return RecordVersion(
        source_id=source_id,
        natural_key=doc["natural_key"],
        version=doc["version"],
        content_hash=doc["content_hash"],
        data=doc.get("data", {}),
        valid_from=aware(doc["valid_from"]),
        valid_to=None if doc.get("valid_to") is None else aware(doc["valid_to"]),
        is_current=doc.get("is_current", True),
        dataset_version=doc.get("dataset_version"),
        updated_at=None if doc.get("updated_at") is None else aware(doc["updated_at"]),
        deleted=doc.get("deleted", False),
        seq=doc.get("seq", 0),
        fetched_at=None if doc.get("fetched_at") is None else aware(doc["fetched_at"]),
    )


def rejection_doc(r: Rejection) -> Doc:
    """``parsing_logs``."""
    return {
        "_id": r.key,
        "source_id": r.source_id,
        "task_id": r.task_id,
        "document_id": r.document_id,
        "row": r.row,
        "field": r.field,
        "reason": r.reason,
        "excerpt": r.excerpt,
        "logged_at": r.logged_at,
    }


def dataset_version_doc(v: DatasetVersion) -> Doc:
    """``dataset_versions`` (``_id`` = the raw document id)."""
    return {
        "_id": v.version_id,
        "source_id": v.source_id,
        "task_id": v.task_id,
        "created_at": v.created_at,
        "rolled_back_at": v.rolled_back_at,
        "counts": v.counts,
        "stream_id": v.stream_id,
    }


def dataset_version(doc: Doc) -> DatasetVersion:
    return DatasetVersion(
        version_id=doc["_id"],
        source_id=doc["source_id"],
        task_id=doc.get("task_id", ""),
        created_at=doc["created_at"],
        counts=doc.get("counts", {}),
        rolled_back_at=doc.get("rolled_back_at"),
        stream_id=doc.get("stream_id"),
    )


def changes_doc(version_id: str, batch: int, changes: list[RecordChange]) -> Doc:
    """``dataset_changes``: one batch of a version's changes, ``[key, new, previous]`` each."""
    return {
        "_id": f"{version_id}:{batch:06d}",
        "version_id": version_id,
        "batch": batch,
        "changes": [_change(c) for c in changes],
    }


def _change(c: RecordChange) -> list[Any]:
    """``[key, new, previous]``, and the kind when it is not implied (a deletion, a key back after one)."""
    implied = "created" if c.previous_version is None else "updated"
    plain = [c.natural_key, c.new_version, c.previous_version]
    return plain if c.kind == implied else [*plain, c.kind]


def record_changes(doc: Doc) -> list[RecordChange]:
    return [RecordChange(*entry) for entry in doc["changes"]]


def audit_doc(entry: AuditStep | AuditRollback | AuditReprocess) -> Doc:
    """``audit``: a step carries its task and error, a rollback its restored/removed counts, a
    reprocess request's entry its run and the config version it sent."""
    if isinstance(entry, AuditRollback):
        return {
            "_id": entry.key,
            "at": entry.at,
            "source_id": entry.source_id,
            "document_id": entry.version_id,
            "step": entry.step,
            "outcome": entry.outcome,
            "counts": entry.counts,
        }
    doc = {
        "_id": entry.key,
        "at": entry.at,
        "source_id": entry.source_id,
        "task_id": entry.task_id,
        "document_id": entry.document_id,
        "step": entry.step,
        "outcome": entry.outcome,
        "counts": entry.counts,
        "error": entry.error,
    }
    return doc if isinstance(entry, AuditStep) else {**doc, "run_id": entry.run_id}


def audit_entry(doc: Doc) -> AuditEntry:
    return AuditEntry(
        at=doc["at"],
        source_id=doc.get("source_id"),
        document_id=doc.get("document_id"),
        task_id=doc.get("task_id"),
        step=doc.get("step"),
        outcome=doc.get("outcome"),
        counts=doc.get("counts", {}),
        error=doc.get("error"),
    )


def dead_letter_doc(letter: DeadLetter) -> Doc:
    """``dead_letters`` (``_id`` = the CloudEvent id)."""
    return {
        "_id": letter.letter_id,
        "topic": letter.topic,
        "data": letter.data,
        "source_id": letter.source_id,
        "task_id": letter.task_id,
        "received_at": letter.received_at,
        "replayed_at": letter.replayed_at,
        "cause": letter.cause,
        "outcome": letter.outcome,
    }


def dead_letter(doc: Doc) -> DeadLetter:
    return DeadLetter(
        letter_id=doc["_id"],
        topic=doc["topic"],
        data=doc.get("data") or {},
        source_id=doc.get("source_id"),
        task_id=doc.get("task_id"),
        received_at=doc["received_at"],
        replayed_at=doc.get("replayed_at"),
        cause=doc.get("cause"),
        outcome=doc.get("outcome") or "parked",
    )
