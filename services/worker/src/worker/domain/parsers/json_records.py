"""``json`` (loaded whole: the standard library has no streaming JSON parser) and ``ndjson``
(read line by line)."""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from worker.domain.parsers.rows import DocumentParseError, ParsedRow, ParseOptions

__all__ = ["load_json", "parse_json", "parse_ndjson"]


def load_json(content: bytes) -> Any:
    """The whole document as JSON; ``DocumentParseError`` when it is not."""
    try:
        return json.loads(content)
    except UnicodeDecodeError as exc:
        raise DocumentParseError(f"invalid JSON: not UTF-8/16/32 text ({exc.reason} at byte {exc.start})") from None
    except ValueError as exc:
        raise DocumentParseError(f"invalid JSON: {exc}") from None
    except RecursionError:  # the standard library parses nested values recursively
        raise DocumentParseError("invalid JSON: nested too deeply") from None


@lru_cache(maxsize=256)
def _compiled(expression: str) -> Any:
    try:
        return jmespath.compile(expression)
    except JMESPathError as exc:
        raise DocumentParseError(f"records_path {expression!r} is not valid JMESPath: {exc}") from None


def _as_record(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {"value": value}


def parse_json(content: bytes, options: ParseOptions) -> Iterator[ParsedRow]:
    """A JSON document: the list ``records_path`` selects, else a top-level list, else the
    single top-level object as one record. Scalars in the list become ``{"value": x}``."""
    doc = load_json(content)
    if options.records_path:
        try:
            doc = _compiled(options.records_path).search(doc)
        except JMESPathError as exc:  # a type error in a function depends on the data, not only the path
            raise DocumentParseError(f"records_path {options.records_path!r} fails on this document: {exc}") from None
        if doc is None:
            return  # APIs often omit or null an empty list: no records, not an error
        if not isinstance(doc, list):
            raise DocumentParseError(
                f"records_path {options.records_path!r} selects a {type(doc).__name__}, not a list of records"
            )
    elif not isinstance(doc, list | dict):
        raise DocumentParseError(f"JSON document is a {type(doc).__name__}, not a list of records or an object")
    records = doc if isinstance(doc, list) else [doc]
    for number, record in enumerate(records, start=1):
        yield ParsedRow(number, _as_record(record))


def parse_ndjson(content: bytes, options: ParseOptions) -> Iterator[ParsedRow]:
    """One JSON value per line; blank lines are skipped but still counted."""
    for number, line in enumerate(io.BytesIO(content), start=1):
        if number == 1 and line.startswith(codecs.BOM_UTF8):
            line = line[len(codecs.BOM_UTF8) :]
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:  # UnicodeDecodeError included
            raise DocumentParseError(f"invalid JSON on line {number}: {exc}") from None
        except RecursionError:
            raise DocumentParseError(f"invalid JSON on line {number}: nested too deeply") from None
        yield ParsedRow(number, _as_record(record))
