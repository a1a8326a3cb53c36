"""The stored shape of every document the worker writes, in one place: domain object → MongoDB
document and back. The ``_id``s are the domain's deterministic keys (``dedup``, ``streams``,
``scd2``, ``Rejection.key``, ``AuditStep.key`` …), which carry uniqueness without unique indexes.
``core``: records, raw documents, dataset versions, audit, dead letters; ``streams``: stream
heads and snapshots; ``bodies``: the kept bodies (``raw_bodies``).
"""

from worker.adapters.mongo_shapes.bodies import (
    BODY_CHUNK,
    body_chunk_id,
    body_content,
    body_docs,
    body_expired,
)
from worker.adapters.mongo_shapes.core import (
    audit_doc,
    audit_entry,
    changes_doc,
    current_record_doc,
    dataset_version,
    dataset_version_doc,
    dead_letter,
    dead_letter_doc,
    raw_begin,
    receipt,
    receipt_doc,
    record_changes,
    record_version,
    record_version_doc,
    rejection_doc,
)
from worker.adapters.mongo_shapes.streams import (
    snapshot_keys_doc,
    snapshot_part,
    snapshot_seal_doc,
    snapshot_state,
    stream_head,
    stream_head_doc,
)

__all__ = [
    "BODY_CHUNK",
    "audit_doc",
    "audit_entry",
    "body_chunk_id",
    "body_content",
    "body_docs",
    "body_expired",
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
    "snapshot_keys_doc",
    "snapshot_part",
    "snapshot_seal_doc",
    "snapshot_state",
    "stream_head",
    "stream_head_doc",
]
