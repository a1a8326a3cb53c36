"""Rows of a document → mapped, validated records and rejections (``parsing_logs`` entries)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from headwater.config import SourceConfig
from worker.domain.mapping import MappingRules, apply_mapping, build_column_mapping, map_json_record
from worker.domain.parsers import ParseOptions, parse_document
from worker.domain.records import MissingKeyError, natural_key
from worker.domain.validation import FieldRuleSpec, validate_record

__all__ = ["BATCH_ROWS", "Extraction", "extract_batches", "extract_rows", "options_from"]

BATCH_ROWS = 2000

TABLE_FORMATS = {"csv", "xlsx", "sheets_values"}
EXCERPT = 300


@dataclass
class Extraction:
    rows: int = 0
    records: list[tuple[str, dict[str, Any], int]] = field(default_factory=list)  # (key, record, row)
    rejections: list[dict[str, Any]] = field(default_factory=list)
    rejected_rows: set[int] = field(default_factory=set)

    def counts(self) -> dict[str, int]:
        return {"rows": self.rows, "rows_valid": len(self.records), "rows_rejected": len(self.rejected_rows)}


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
        total.rejections += batch.rejections
        total.rejected_rows |= batch.rejected_rows
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
    options, rules, checks, key_fields = options_from(config)
    table = options.format in TABLE_FORMATS
    column_mapping = None
    out = Extraction()
    for row in parse_document(content, options):
        out.rows += 1
        if rules is None:
            mapped = dict(row.data)
        elif table:
            if column_mapping is None:
                column_mapping = build_column_mapping(list(row.data.keys()), rules)
            mapped = apply_mapping(row.data, column_mapping)
        else:
            mapped = map_json_record(row.data, rules)
        clean, violations = validate_record(mapped, checks)
        problems = [(v.field, v.reason) for v in violations]
        key = None
        if not problems:
            try:
                key = natural_key(clean, key_fields)
            except MissingKeyError as exc:
                problems.append((str(exc.args[0]) if exc.args else "key", "natural key field missing or empty"))
        if problems:
            out.rejected_rows.add(row.row_number)
            excerpt = json.dumps(row.data, default=str, ensure_ascii=False)[:EXCERPT]
            for fld, reason in problems:
                out.rejections.append(
                    {
                        "_id": f"{doc_id}:{row.row_number}:{fld}",
                        "source_id": source_id,
                        "task_id": task_id,
                        "document_id": doc_id,
                        "row": row.row_number,
                        "field": fld,
                        "reason": reason,
                        "excerpt": excerpt,
                        "logged_at": now,
                    }
                )
        else:
            assert key is not None
            out.records.append((key, clean, row.row_number))
        if out.rows >= batch_rows:
            yield out
            out = Extraction()
    if out.rows:
        yield out
