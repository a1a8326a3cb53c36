"""Column mapping: manual overrides win, then fuzzy matching (rapidfuzz WRatio, so "Unit Price"
finds ``price``) onto standard fields; the
columns left over are kept under ``characteristics`` (or the configured name)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import jmespath
from rapidfuzz import fuzz

__all__ = ["ColumnMapping", "MappingRules", "apply_mapping", "build_column_mapping", "map_json_record"]


@dataclass(frozen=True)
class MappingRules:
    fields: dict[str, str] = field(default_factory=dict)
    fuzzy: bool = True
    fuzzy_threshold: int = 85
    standard_fields: list[str] = field(default_factory=list)
    keep_unmapped_as: str = "characteristics"


@dataclass(frozen=True)
class ColumnMapping:
    """source header → target field; ``unmapped`` headers go to ``keep_as``."""

    columns: dict[str, str]
    unmapped: list[str]
    keep_as: str
    scores: dict[str, float] = field(default_factory=dict)


def _norm(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.lower()).strip()


def build_column_mapping(headers: list[str], rules: MappingRules) -> ColumnMapping:
    columns: dict[str, str] = {}
    by_norm = {_norm(h): h for h in headers}
    for target, source in rules.fields.items():
        header = by_norm.get(_norm(source))
        if header is not None:
            columns[header] = target
    taken = set(columns.values())
    scores: dict[str, float] = {}
    if rules.fuzzy and rules.standard_fields:
        candidates = []
        for header in headers:
            if header in columns:
                continue
            for target in rules.standard_fields:
                if target in taken:
                    continue
                score = fuzz.WRatio(_norm(header), _norm(target))
                if score >= rules.fuzzy_threshold:
                    candidates.append((score, header, target))
        for score, header, target in sorted(candidates, key=lambda c: -c[0]):
            if header in columns or target in taken:
                continue
            columns[header] = target
            taken.add(target)
            scores[header] = score
    unmapped = [h for h in headers if h not in columns]
    return ColumnMapping(columns, unmapped, rules.keep_unmapped_as, scores)


def apply_mapping(row: dict[str, Any], mapping: ColumnMapping) -> dict[str, Any]:
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


def map_json_record(record: dict[str, Any], rules: MappingRules) -> dict[str, Any]:
    """JSON records: ``fields`` maps target → JMESPath; without fields the record passes as is."""
    if not rules.fields:
        return dict(record)
    return {target: jmespath.search(expr, record) for target, expr in rules.fields.items()}
