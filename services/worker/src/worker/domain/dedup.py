"""Content-hash dedup of raw documents.

What is hashed: exactly the bytes the worker received as the document — the message's
``content`` after base64 decoding (``encoding: base64``; text content, ``encoding: utf-8``, is
hashed as its UTF-8 bytes), or the claim-checked blob as stored. That is the HTTP response body
after transfer decoding (gzip …), or the uploaded file. The hash is taken before any parsing,
BOM stripping, text decoding or newline handling: the same bytes are the same document and any
changed byte is a new one.

The raw document's ``_id`` is ``<source>:<sha256>``; the insert that fails on a duplicate ``_id``
is what decides "duplicate", atomically, across worker replicas and redeliveries.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["content_hash", "raw_document_id", "raw_document_of"]

_SHA256 = re.compile(r"[0-9a-f]{64}")


def content_hash(content: bytes) -> str:
    """SHA-256 hex digest (64 lowercase hex characters) of ``content`` as received."""
    return hashlib.sha256(content).hexdigest()


def raw_document_id(source_id: str, content_hash: str) -> str:
    """``<source>:<sha256>``: the ``_id`` whose insert decides new vs duplicate."""
    return f"{source_id}:{content_hash}"


def raw_document_of(source_id: str, ref: str) -> str | None:
    """The raw document id a reference names: the id itself (``<source>:<sha256>``), one of its
    occurrences (``<source>:<sha256>:<stream tag>.<n>``, a dataset version) or the bare SHA-256;
    None when ``ref`` is none of these for ``source_id``."""
    ref = ref.strip()
    if _SHA256.fullmatch(ref.lower()):
        return raw_document_id(source_id, ref.lower())
    prefix = f"{source_id}:"
    if not ref.startswith(prefix):
        return None
    digest = ref[len(prefix) :].split(":", 1)[0]
    return raw_document_id(source_id, digest) if _SHA256.fullmatch(digest) else None
