"""The raw landing: every body processed as new content is kept once per source, compressed and
chunked (``raw_bodies``), with the source's retention; a duplicate writes nothing."""

from __future__ import annotations

import base64
import hashlib
import zlib
from datetime import timedelta

import pytest
from worker_support import CONFIG, CSV1, App, doc  # type: ignore[import-not-found]

from headwater.config import SourceConfig
from headwater.contracts.messages import ContentReference
from headwater.edge.blobs import BlobIntegrityError
from worker.adapters.mongo_shapes import body_content, body_docs, body_expired
from worker.domain.dedup import content_hash, raw_document_of
from worker.service_layer.outcomes import Unprocessable

BIG = ("Product Code,Name,Price\n" + "".join(f"P-{n},Part {n},{n % 97}.25\n" for n in range(20_000))).encode()


def digest(content: str | bytes) -> str:
    return hashlib.sha256(content.encode() if isinstance(content, str) else content).hexdigest()


def test_a_body_is_compressed_and_cut_into_chunks_and_read_back() -> None:
    docs = body_docs("prices", digest(BIG), BIG, App().clock.now(), None, chunk=16 * 1024)

    packed = b"".join(d["data"] for d in docs)
    assert len(docs) > 1 and len(packed) < len(BIG) / 3 and zlib.decompress(packed) == BIG
    assert [d["_id"] for d in docs[:2]] == [f"prices:{digest(BIG)}:0", f"prices:{digest(BIG)}:1"]
    assert {(d["of"], d["codec"], d["size_bytes"]) for d in docs} == {(len(docs), "zlib", len(BIG))}
    assert all(len(d["data"]) <= 16 * 1024 and "expires_at" not in d for d in docs)
    assert body_content(list(reversed(docs)), digest(BIG)) == BIG  # any order
    with pytest.raises(BlobIntegrityError, match="incomplete"):
        body_content(docs[:-1], digest(BIG))
    with pytest.raises(BlobIntegrityError, match="does not match"):
        body_content(body_docs("prices", digest(BIG), b"other", App().clock.now(), None), digest(BIG))


def test_an_empty_body_is_one_chunk_and_expiry_is_read_from_the_chunk() -> None:
    now = App().clock.now()
    [only] = body_docs("prices", digest(b""), b"", now, now + timedelta(days=1))
    assert body_content([only], digest(b"")) == b""
    assert not body_expired(only, now) and body_expired(only, now + timedelta(days=1))


async def test_every_body_processed_as_new_content_is_kept_once_per_source() -> None:
    app = App()
    await app.c.processor.handle(doc(CSV1))

    kept = app.bodies.docs[f"prices:{digest(CSV1)}:0"]
    assert kept["data"] != CSV1.encode() and zlib.decompress(kept["data"]) == CSV1.encode()
    assert await app.bodies.read("prices", digest(CSV1), app.clock.now()) == CSV1.encode()
    assert "expires_at" not in kept  # no store.raw_retention: kept forever


async def test_a_duplicate_does_not_write_the_body_again() -> None:
    app = App()
    await app.c.processor.handle(doc(CSV1))
    writes = app.bodies.writes
    ref = ContentReference(key=digest(CSV1), size_bytes=len(CSV1), sha256=digest(CSV1))

    await app.c.processor.handle(doc(CSV1, task="prices:t2"))  # inline, the stream's latest again
    await app.c.processor.handle(doc(None, task="prices:t3", reference=ref))  # claim-checked

    assert app.bodies.writes == writes and app.blobs.reads == 0  # a duplicate reads and writes no body
    assert app.raw.docs[f"prices:{digest(CSV1)}"].duplicates == 2


async def test_a_claim_checked_body_is_kept_as_the_worker_s_own_copy() -> None:
    app = App()
    app.blobs.blobs[digest(BIG)] = BIG
    ref = ContentReference(key=digest(BIG), size_bytes=len(BIG), sha256=digest(BIG))
    app.bodies.chunk = 64 * 1024

    await app.c.processor.handle(doc(None, reference=ref))

    chunks = [d for key, d in app.bodies.docs.items() if key.startswith(f"prices:{digest(BIG)}:")]
    assert len(chunks) > 1 and await app.bodies.read("prices", digest(BIG), app.clock.now()) == BIG


async def test_retention_counts_from_the_latest_processing_of_the_body() -> None:
    config = SourceConfig.model_validate(
        {**CONFIG.model_dump(by_alias=True), "store": {"key": ["sku"], "raw_retention": "30d"}}
    )
    app = App(config)
    a, b = CSV1, CSV1.replace("1.50", "1.75")
    await app.c.processor.handle(doc(a))
    first = app.bodies.docs[f"prices:{digest(a)}:0"]["expires_at"]
    assert first == app.clock.now() + timedelta(days=30)

    app.clock.tick(86_400)
    await app.c.processor.handle(doc(b, fetched_at=app.clock.now()))
    app.clock.tick(86_400)
    await app.c.processor.handle(doc(a, fetched_at=app.clock.now()))  # A → B → A: A again, not stored twice

    assert app.bodies.docs[f"prices:{digest(a)}:0"]["expires_at"] == first + timedelta(days=2)
    assert not await app.bodies.kept("prices", digest(a), first + timedelta(days=3))


async def test_a_document_that_cannot_be_parsed_is_kept_for_a_reprocess() -> None:
    config = SourceConfig.model_validate(
        {**CONFIG.model_dump(by_alias=True), "parse": {"format": "csv", "encoding": "utf-8"}}
    )
    app = App(config)
    out = await app.c.processor.handle(doc("//79/w==", encoding="base64"))  # not UTF-8: failed, dead-lettered
    assert isinstance(out, Unprocessable)
    assert await app.bodies.kept("prices", digest(base64.b64decode("//79/w==")), app.clock.now())


async def test_an_unknown_config_version_keeps_nothing() -> None:
    app = App()
    await app.c.processor.handle(doc(CSV1, version=9))
    assert app.bodies.docs == {}


def test_a_document_is_named_by_its_id_an_occurrence_or_its_hash() -> None:
    h = content_hash(b"x")
    assert raw_document_of("s", h) == raw_document_of("s", h.upper()) == f"s:{h}"
    assert raw_document_of("s", f"s:{h}") == raw_document_of("s", f"s:{h}:0a1b2c3d.2") == f"s:{h}"
    assert raw_document_of("s", f"t:{h}") is None and raw_document_of("s", "s:abc") is None
