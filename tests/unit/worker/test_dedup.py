"""worker.domain.dedup: the hash of the exact bytes and the raw document id."""

from __future__ import annotations

import codecs

from worker.domain.dedup import content_hash, raw_document_id

ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_content_hash_is_sha256_hex_of_the_exact_bytes() -> None:
    assert content_hash(b"abc") == ABC
    assert content_hash(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_nothing_is_normalised_before_hashing() -> None:
    variants = [b"abc\n", b"abc\r\n", codecs.BOM_UTF8 + b"abc", "abc".encode("utf-16"), b"ABC"]
    assert len({content_hash(v) for v in variants} | {ABC}) == len(variants) + 1


def test_raw_document_id() -> None:
    assert raw_document_id("prices", ABC) == f"prices:{ABC}"
