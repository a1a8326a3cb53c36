"""Content decoding with a hard limit on the *decoded* size.

Bodies are read raw and inflated here in bounded steps (``max_length``), so a small gzip
bomb stops at ``max_bytes`` (plus one step) instead of expanding in memory first. Only the
encodings the fetcher asks for (``Accept-Encoding: gzip, deflate``) are decoded.
"""

from __future__ import annotations

import zlib

from collection_model.domain.errors import FetchError, ResponseTooLargeError

__all__ = ["ACCEPT_ENCODING", "BoundedDecoder"]

ACCEPT_ENCODING = "gzip, deflate"
STEP = 64 * 1024


class BoundedDecoder:
    def __init__(self, content_encoding: str | None, max_bytes: int, where: str = "the response") -> None:
        codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise FetchError(f"unsupported content-encoding {content_encoding!r} from {where}")
        self._coding = codings[0] if codings else None
        self._max = max_bytes
        self._where = where
        self._parts: list[bytes] = []
        self._size = 0
        self._inflater = self._new_inflater()
        self._deflate_probe = self._coding == "deflate"

    def _new_inflater(self) -> zlib._Decompress | None:
        if self._coding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self._coding == "deflate":
            return zlib.decompressobj(zlib.MAX_WBITS)
        return None

    def _keep(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._size += len(chunk)
        if self._size > self._max:
            raise ResponseTooLargeError(f"{self._where} is larger than {self._max} bytes (decoded)")
        self._parts.append(chunk)

    def feed(self, data: bytes) -> None:
        if self._inflater is None:
            self._keep(data)
            return
        try:
            self._inflate(data)
        except zlib.error as exc:
            if not self._deflate_probe:
                raise FetchError(f"corrupt {self._coding} body from {self._where}: {exc}") from None
            # "deflate" is sometimes sent raw, without the zlib wrapper
            self._inflater, self._deflate_probe = zlib.decompressobj(-zlib.MAX_WBITS), False
            try:
                self._inflate(data)
            except zlib.error as raw_exc:
                raise FetchError(f"corrupt {self._coding} body from {self._where}: {exc}; {raw_exc}") from None
        self._deflate_probe = False

    def _inflate(self, data: bytes) -> None:
        assert self._inflater is not None
        while data:
            self._keep(self._inflater.decompress(data, STEP))
            data = self._inflater.unconsumed_tail
            if self._inflater.eof and self._inflater.unused_data:  # another gzip member follows
                data = self._inflater.unused_data + data
                self._inflater = self._new_inflater()
                assert self._inflater is not None

    def finish(self) -> bytes:
        if self._inflater is not None:
            while True:
                chunk = self._inflater.flush(STEP)
                if not chunk:
                    break
                self._keep(chunk)
        return b"".join(self._parts)
