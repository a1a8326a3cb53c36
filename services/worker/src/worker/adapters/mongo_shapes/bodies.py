"""The stored shape of ``raw_bodies``: the worker's own copy of each body it processed.

zlib-compressed, then cut into chunks of at most 4 MiB (like ``headwater.edge.blobs``), each a
document ``<source>:<sha256>:<n>`` carrying ``of`` (how many), the original size and, with a
retention, ``expires_at`` (the TTL index removes it after). The writer stores chunk 0 last, so a
body whose chunk 0 exists was written whole; the reader checks the SHA-256 of what it restores.
"""

from __future__ import annotations

import hashlib
import zlib
from datetime import datetime
from typing import Any

from headwater.edge.blobs import BlobIntegrityError
from worker.adapters.mongo_shapes.core import aware

__all__ = ["BODY_CHUNK", "body_chunk_id", "body_content", "body_docs", "body_expired"]

BODY_CHUNK = 4 * 1024 * 1024
CODEC = "zlib"

Doc = dict[str, Any]


def body_chunk_id(source_id: str, content_hash: str, n: int) -> str:
    """``<source>:<sha256>:<n>``: each distinct body is kept once per source."""
    return f"{source_id}:{content_hash}:{n}"


def body_docs(
    source_id: str,
    content_hash: str,
    content: bytes,
    stored_at: datetime,
    expires_at: datetime | None,
    chunk: int = BODY_CHUNK,
) -> list[Doc]:
    """The chunk documents of ``content``, chunk 0 first (``expires_at`` only with a retention)."""
    packed = zlib.compress(content, 6)
    parts = [packed[i : i + chunk] for i in range(0, len(packed), chunk)] or [b""]
    kept: Doc = {"source_id": source_id, "sha256": content_hash, "of": len(parts), "codec": CODEC}
    kept |= {"size_bytes": len(content), "stored_at": stored_at}
    if expires_at is not None:
        kept["expires_at"] = expires_at
    return [
        {"_id": body_chunk_id(source_id, content_hash, n), "n": n, **kept, "data": part} for n, part in enumerate(parts)
    ]


def body_content(docs: list[Doc], content_hash: str) -> bytes:
    """The body the chunk documents hold (any order); ``BlobIntegrityError`` when a chunk is
    missing or what they restore is not ``content_hash``."""
    ordered = sorted(docs, key=lambda d: d["n"])
    if not ordered or [d["n"] for d in ordered] != list(range(ordered[0]["of"])):
        raise BlobIntegrityError(f"kept body {content_hash} is incomplete")
    try:
        content = zlib.decompress(b"".join(bytes(d["data"]) for d in ordered))
    except zlib.error as exc:
        raise BlobIntegrityError(f"kept body {content_hash} is corrupt: {exc}") from exc
    if hashlib.sha256(content).hexdigest() != content_hash:
        raise BlobIntegrityError(f"kept body {content_hash} does not match its hash")
    return content


def body_expired(doc: Doc, now: datetime) -> bool:
    """The chunk's retention is over (the TTL monitor removes it soon, not at once)."""
    expires_at = doc.get("expires_at")
    return expires_at is not None and aware(expires_at) <= now
