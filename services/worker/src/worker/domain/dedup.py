"""Content-hash dedup.

What is hashed: the exact bytes of the document as fetched or uploaded — the HTTP response
body after transfer decoding (gzip etc.), or the uploaded file — i.e. the message's
``content`` after base64 decoding (``encoding: base64``) or UTF-8 encoding (``utf-8``), or
the claim-checked blob. Nothing is normalised before hashing: the same bytes are the same
document; a changed byte is a new one.
"""

from __future__ import annotations

import hashlib

__all__ = ["content_hash", "raw_document_id"]


def content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def raw_document_id(source_id: str, digest: str) -> str:
    """``<source>:<sha256>``: the ``_id`` whose insert decides new vs duplicate."""
    return f"{source_id}:{digest}"
