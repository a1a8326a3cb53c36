"""Column mapping: source columns → the source's standard field names.

Tables (csv, xlsx, sheets_values): manual overrides (``fields``: target → source header,
matched ignoring case, whitespace and punctuation) always win; the remaining headers are
fuzzy-matched onto ``standard_fields`` with rapidfuzz WRatio (so "Unit Price" finds ``price``),
best scores first, each header and each field used at most once, only scores at or above
``fuzzy_threshold``. Columns left over are kept, with their original header, under
``keep_unmapped_as`` (``characteristics`` by default) so nothing a supplier sent is lost.
A field named in ``fields`` is never fuzzy-filled, even when its source column is absent: an
explicit choice is not second-guessed.

JSON records: ``fields`` values are JMESPath expressions evaluated against the record; with no
``fields`` the record passes through unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jmespath
from rapidfuzz import fuzz

__all__ = ["ColumnMapping", "Mapper", "MappingRules", "apply_mapping", "build_column_mapping", "map_json_record"]


@dataclass(frozen=True)
class MappingRules:
    """The ``map`` section of a source config, as the domain sees it."""

    fields: dict[str, str] = field(default_factory=dict)
    fuzzy: bool = True
    fuzzy_threshold: int = 85
    standard_fields: list[str] = field(default_factory=list)
    keep_unmapped_as: str = "characteristics"


@dataclass(frozen=True)
class ColumnMapping:
    """``columns``: source header → target field; ``unmapped`` headers go under ``keep_as``.
    ``scores`` records the fuzzy score of each fuzzy-matched header (overrides have none)."""

    columns: dict[str, str]
    unmapped: list[str]
    keep_as: str
    scores: dict[str, float] = field(default_factory=dict)


def _norm(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.lower()).strip()


def build_column_mapping(headers: list[str], rules: MappingRules) -> ColumnMapping:
    """Decide once per document which header feeds which field."""
    columns: dict[str, str] = {}
    by_norm: dict[str, str] = {}
    for header in headers:
        by_norm.setdefault(_norm(header), header)  # a duplicate header's first occurrence wins
    for target, source in rules.fields.items():
        found = by_norm.get(_norm(source))
        if found is not None and found not in columns:
            columns[found] = target
    taken = set(columns.values()) | set(rules.fields)  # an overridden field is never fuzzy-filled
    scores: dict[str, float] = {}
    if rules.fuzzy and rules.standard_fields:
        candidates: list[tuple[float, bool, int, int, str, str]] = []
        for hi, header in enumerate(headers):
            if header in columns or not _norm(header):
                continue
            for fi, target in enumerate(rules.standard_fields):
                if target in taken:
                    continue
                score = fuzz.WRatio(_norm(header), _norm(target))
                if score >= rules.fuzzy_threshold:
                    exact = _norm(header) == _norm(target)
                    candidates.append((-score, not exact, hi, fi, header, target))
        for neg_score, _, _, _, header, target in sorted(candidates):
            if header in columns or target in taken:
                continue
            columns[header] = target
            taken.add(target)
            scores[header] = -neg_score
    unmapped = [h for h in headers if h not in columns]
    return ColumnMapping(columns, unmapped, rules.keep_unmapped_as, scores)


def apply_mapping(row: dict[str, Any], mapping: ColumnMapping) -> dict[str, Any]:
    """The row under target names; other non-empty cells (including columns the mapping never
    saw, such as a ragged row's ``column_<n>``) under ``mapping.keep_as``."""
    out: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for header, value in row.items():
        target = mapping.columns.get(header)
        if target is not None:
            out[target] = value
        elif value is not None:
            extra[header] = value
    if extra:
        out[mapping.keep_as] = extra
    return out


@lru_cache(maxsize=256)
def _compiled(expression: str) -> Any:
    return jmespath.compile(expression)


def map_json_record(record: dict[str, Any], rules: MappingRules) -> dict[str, Any]:
    """JSON records: each target is the JMESPath ``fields[target]`` of the record (``None`` when
    absent); without ``fields`` the record passes through unchanged.
    Raises ``jmespath.exceptions.JMESPathError`` for an invalid expression (a config error)."""
    if not rules.fields:
        return dict(record)
    return {target: _compiled(expr).search(record) for target, expr in rules.fields.items()}


class Mapper:
    """Maps a document's rows one by one; for tables the column mapping is built lazily from
    the first row's keys (the header) and reused for the rest of the document."""

    def __init__(self, rules: MappingRules | None, *, table: bool) -> None:
        self._rules = rules
        self._table = table
        self.column_mapping: ColumnMapping | None = None

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        if self._rules is None:
            return dict(row)
        if not self._table:
            return map_json_record(row, self._rules)
        if self.column_mapping is None:
            self.column_mapping = build_column_mapping(list(row), self._rules)
        return apply_mapping(row, self.column_mapping)
