"""In-memory ``raw_bodies``: the chunk documents the MongoDB adapter would write (the same
shapes: compressed, chunked, chunk 0 last), under the same ids, expiring the same way."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from worker.adapters.mongo_shapes import body_chunk_id, body_content, body_docs, body_expired


class Bodies:
    def __init__(self, chunk: int = 4 * 1024 * 1024) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.chunk = chunk
        self.writes = 0  # chunk documents written (inserts; expiry moves not counted)

    async def keep(self, source_id: str, content_hash: str, content: bytes, expires_at: datetime | None) -> bool:
        first = self.docs.get(body_chunk_id(source_id, content_hash, 0))
        if first is not None:
            for n in range(first["of"]):
                doc = self.docs[body_chunk_id(source_id, content_hash, n)]
                doc.pop("expires_at", None)
                if expires_at is not None:
                    doc["expires_at"] = expires_at
            return False
        docs = body_docs(source_id, content_hash, content, datetime.now(UTC), expires_at, self.chunk)
        for doc in [*docs[1:], docs[0]]:
            self.docs.setdefault(doc["_id"], doc)
            self.writes += 1
        return True

    async def read(self, source_id: str, content_hash: str, now: datetime) -> bytes | None:
        first = self.docs.get(body_chunk_id(source_id, content_hash, 0))
        if first is None or body_expired(first, now):
            return None
        ids = [body_chunk_id(source_id, content_hash, n) for n in range(first["of"])]
        return body_content([self.docs[i] for i in ids if i in self.docs], content_hash)

    async def kept(self, source_id: str, content_hash: str, now: datetime) -> bool:
        first = self.docs.get(body_chunk_id(source_id, content_hash, 0))
        return first is not None and not body_expired(first, now)

    def expire(self, source_id: str, content_hash: str) -> None:
        """What the TTL monitor does once a body's retention is over."""
        for key in [k for k in self.docs if k.startswith(f"{source_id}:{content_hash}:")]:
            del self.docs[key]
