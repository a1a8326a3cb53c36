"""Claim check: bodies too large to travel inline are stored once in MongoDB ``blobs``.

Chunks of 4 MiB under deterministic ids (``<sha256>:<n>``), so storing the same body twice
is a no-op and a reader can verify the hash. The message carries a ``ContentReference``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from headwater.contracts.messages import ContentReference

__all__ = ["BlobIntegrityError", "MongoBlobStore"]

CHUNK = 4 * 1024 * 1024


class BlobIntegrityError(RuntimeError):
    """A stored body is missing or does not match its hash."""


class MongoBlobStore:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._blobs = db["blobs"]

    async def put(self, content: bytes) -> ContentReference:
        digest = hashlib.sha256(content).hexdigest()
        ref = ContentReference(key=digest, size_bytes=len(content), sha256=digest)
        if await self._blobs.find_one({"_id": f"{digest}:0"}, {"_id": 1}):
            return ref  # stored before (content-addressed): nothing to send again
        chunks = [content[i : i + CHUNK] for i in range(0, len(content), CHUNK)] or [b""]
        docs = [
            {"_id": f"{digest}:{n}", "sha256": digest, "n": n, "of": len(chunks), "data": chunk}
            for n, chunk in enumerate(chunks)
        ]
        try:
            await self._blobs.insert_many(docs, ordered=False)
        except BulkWriteError as exc:  # chunks already stored by an earlier attempt
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                raise
        return ref

    async def get(self, ref: ContentReference) -> bytes:
        docs = await self._blobs.find({"sha256": ref.key}).sort("n", 1).to_list()
        content = b"".join(bytes(d["data"]) for d in docs)
        if not docs or len(docs) != docs[0]["of"] or hashlib.sha256(content).hexdigest() != ref.sha256:
            raise BlobIntegrityError(f"blob {ref.key} is missing or corrupt")
        return content
