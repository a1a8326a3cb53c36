"""BoundedDecoder: the decoded-size limit and the encodings the fetcher asks for."""

from __future__ import annotations

import gzip
import zlib

import pytest

from collection_model.adapters.decoding import BoundedDecoder
from collection_model.domain.errors import FetchError, ResponseTooLargeError


def test_bounded_decoder_handles_raw_deflate_multi_member_gzip_and_refuses_unknown() -> None:
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    data = raw.compress(b"abc" * 10) + raw.flush()
    decoder = BoundedDecoder("deflate", 1000)
    decoder.feed(data)
    assert decoder.finish() == b"abc" * 10
    decoder = BoundedDecoder("gzip", 1000)
    decoder.feed(gzip.compress(b"one ") + gzip.compress(b"two"))
    assert decoder.finish() == b"one two"
    with pytest.raises(FetchError, match="unsupported content-encoding"):
        BoundedDecoder("br", 1000)


def test_the_limit_holds_for_plain_and_compressed_bodies() -> None:
    plain = BoundedDecoder(None, 10, "the body")
    plain.feed(b"x" * 10)
    with pytest.raises(ResponseTooLargeError, match=r"the body is larger than 10 bytes \(decoded\)"):
        plain.feed(b"y")
    bomb = BoundedDecoder("gzip", 100_000)
    with pytest.raises(ResponseTooLargeError):
        bomb.feed(gzip.compress(b"\0" * 10_000_000))
    assert bomb._size <= 100_000 + 64 * 1024  # inflated in bounded steps, not all at once


def test_a_corrupt_body_is_a_fetch_error() -> None:
    with pytest.raises(FetchError, match="corrupt gzip body"):
        BoundedDecoder("gzip", 1000).feed(b"not gzip at all")
