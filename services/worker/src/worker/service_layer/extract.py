"""Rows of a document → mapped, validated records and rejections (``parsing_logs`` entries)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from headwater.config import SourceConfig
from worker.domain.documents import Rejection
from worker.domain.mapping import ColumnMapping, MappingRules, apply_mapping, build_column_mapping, map_json_record
from worker.domain.parsers import ParsedRow, ParseOptions, parse_document
from worker.domain.records import MissingKeyError, effective_time, natural_key, record_content_hash
from worker.domain.scd2 import Incoming
from worker.domain.validation import FieldRuleSpec, validate_record

__all__ = ["BATCH_ROWS", "Extraction", "ahead", "extract_batches", "extract_rows", "options_from"]

BATCH_ROWS = 2000

TABLE_FORMATS = {"csv", "xlsx", "sheets_values"}
EXCERPT = 300


@dataclass
class Extraction:
    rows: int = 0
    records: list[tuple[str, dict[str, Any], int]] = field(default_factory=list)  # (key, record, row)
    rejections: list[Rejection] = field(default_factory=list)
    rejected_rows: set[int] = field(default_factory=set)
    rejected_keys: set[str] = field(default_factory=set)  # rejected rows whose natural key could be read
    unkeyed: int = 0  # rejected rows without a readable natural key
    latest: dict[str, Incoming] = field(default_factory=dict)  # each key's last row, to store (``seal``)

    def counts(self) -> dict[str, int]:
        return {"rows": self.rows, "rows_valid": len(self.records), "rows_rejected": len(self.rejected_rows)}

    def seal(self, valid_from_path: str | None) -> Extraction:
        """Work out ``latest``: per key the last row, with its valid-from time and content hash
        (the CPU work the store would otherwise do on its event loop)."""
        for key, record, _row in self.records:
            at = effective_time(record, valid_from_path) if valid_from_path else None
            self.latest[key] = Incoming(record, at, record_content_hash(record))
        return self


def options_from(config: SourceConfig) -> tuple[ParseOptions, MappingRules | None, dict[str, FieldRuleSpec], list[str]]:
    """The domain's options from the config contract (the one place they are mapped)."""
    parse = config.parse
    assert parse is not None
    options = ParseOptions(
        format=parse.format,
        records_path=parse.records_path,
        delimiter=parse.delimiter,
        encoding=parse.encoding,
        sheet=parse.sheet,
        header_row=parse.header_row,
    )
    rules = None
    if config.map_ is not None:
        m = config.map_
        rules = MappingRules(
            fields=dict(m.fields),
            fuzzy=m.fuzzy,
            fuzzy_threshold=m.fuzzy_threshold,
            standard_fields=list(m.standard_fields),
            keep_unmapped_as=m.keep_unmapped_as,
        )
    checks = {}
    if config.validate_ is not None:
        for name, r in config.validate_.fields.items():
            checks[name] = FieldRuleSpec(
                type=r.type,
                required=r.required,
                min=r.min,
                max=r.max,
                pattern=r.pattern,
                enum=list(r.enum) if r.enum else None,
            )
    key = list(config.store.key) if config.store is not None else []
    return options, rules, checks, key


class _RowChecker:
    """Map, validate and key one row at a time; a table's column mapping is decided on its
    first row and kept for the rest of the document."""

    def __init__(self, config: SourceConfig) -> None:
        self.options, self._rules, self._checks, self._key_fields = options_from(config)
        self.valid_from = config.store.valid_from_path if config.store is not None else None
        self._table = self.options.format in TABLE_FORMATS
        self._columns: ColumnMapping | None = None

    def _mapped(self, data: dict[str, Any]) -> dict[str, Any]:
        if self._rules is None:
            return dict(data)
        if not self._table:
            return map_json_record(data, self._rules)
        if self._columns is None:
            self._columns = build_column_mapping(list(data.keys()), self._rules)
        return apply_mapping(data, self._columns)

    def check(self, data: dict[str, Any]) -> tuple[str | None, dict[str, Any], list[tuple[str, str]]]:
        """(natural key, clean record, problems as (field, reason)); a row with problems keeps
        its key when the key can still be read (a snapshot then knows the key is present)."""
        clean, violations = validate_record(self._mapped(data), self._checks)
        problems = [(v.field, v.reason) for v in violations]
        if self.valid_from is not None and not problems:
            try:
                effective_time(clean, self.valid_from)
            except ValueError as exc:
                problems.append((self.valid_from, f"valid_from: {exc}"))
        try:
            return natural_key(clean, self._key_fields), clean, problems
        except MissingKeyError as exc:
            if not problems:
                problems.append((str(exc.args[0]) if exc.args else "key", "natural key field missing or empty"))
            return None, clean, problems


def extract_rows(
    content: bytes, config: SourceConfig, *, doc_id: str, source_id: str, task_id: str, now: datetime
) -> Extraction:
    """All rows at once (small documents and tests); see ``extract_batches``."""
    total = Extraction()
    for batch in extract_batches(
        content, config, doc_id=doc_id, source_id=source_id, task_id=task_id, now=now, batch_rows=10**9
    ):
        total.rows += batch.rows
        total.records += batch.records
        total.latest.update(batch.latest)
        total.rejections += batch.rejections
        total.rejected_rows |= batch.rejected_rows
        total.rejected_keys |= batch.rejected_keys
        total.unkeyed += batch.unkeyed
    return total


def extract_batches(
    content: bytes,
    config: SourceConfig,
    *,
    doc_id: str,
    source_id: str,
    task_id: str,
    now: datetime,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[Extraction]:
    """Parse, map and validate rows, yielding them in batches so memory stays bounded however
    large the document. Invalid rows become rejections (partial success).
    Raises ``DocumentParseError`` when the document cannot be parsed at all."""
    if config.parse is None:
        return
    checker = _RowChecker(config)
    out = Extraction()
    for row in parse_document(content, checker.options):
        out.rows += 1
        key, clean, problems = checker.check(row.data)
        if problems:
            out.rejected_rows.add(row.row_number)
            out.rejections += _rejections(row, problems, doc_id, source_id, task_id, now)
            if key is None:
                out.unkeyed += 1
            else:
                out.rejected_keys.add(key)
        else:
            assert key is not None
            out.records.append((key, clean, row.row_number))
        if out.rows >= batch_rows:
            yield out.seal(checker.valid_from)
            out = Extraction()
    if out.rows:
        yield out.seal(checker.valid_from)


def _rejections(
    row: ParsedRow, problems: list[tuple[str, str]], doc_id: str, source_id: str, task_id: str, now: datetime
) -> list[Rejection]:
    excerpt = json.dumps(row.data, default=str, ensure_ascii=False)[:EXCERPT]
    return [
        Rejection(doc_id, source_id, task_id, row.row_number, fld, reason, excerpt, now) for fld, reason in problems
    ]


async def ahead(batches: Iterator[Extraction]) -> AsyncIterator[Extraction]:
    """``batches``, each extracted in a thread while the one before is being stored: parsing,
    validation and hashing (CPU) overlap the database's work on the previous batch (at most
    two batches are in memory). An extraction error is raised where its batch would be."""
    pending = asyncio.ensure_future(asyncio.to_thread(next, batches, None))
    try:
        while (batch := await pending) is not None:
            pending = asyncio.ensure_future(asyncio.to_thread(next, batches, None))
            yield batch
    finally:
        if not pending.done():
            await asyncio.wait([pending])  # the generator is not left running in the thread
