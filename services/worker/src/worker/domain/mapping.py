"""Column mapping: source columns → the source's standard field names.

Tables (csv, xlsx, sheets_values): manual overrides (``fields``: target → source header,
matched ignoring case, whitespace and punctuation) always win. The remaining headers are
auto-detected onto ``standard_fields`` (``worker.domain.synonyms``: a header equal to a field's
name or one of its synonyms — "Product Code" is ``sku``, "Unit Price" ``price``, "Qty"
``quantity`` — scores 100, others a rapidfuzz score) and assigned one to one: each header and
each field used at most once, only pairs scoring at or above ``fuzzy_threshold``, the assignment
with the best total score winning (ties: exact names, then more specific synonyms, then earlier
headers). ``fuzzy: false`` turns auto-detection off: only overrides map. Columns left over are
kept, with their original header, under ``keep_unmapped_as`` (``characteristics`` by default) so
nothing a supplier sent is lost. A field named in ``fields`` is never auto-filled, even when its
source column is absent: an explicit choice is not second-guessed.

JSON records: ``fields`` values are JMESPath expressions evaluated against the record; with no
``fields`` the record passes through unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from worker.domain.synonyms import PREFERENCE_LEVELS, fit, normalise
from worker.domain.validation import FieldFailure

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
    ``scores`` records the score of each auto-detected header (overrides have none)."""

    columns: dict[str, str]
    unmapped: list[str]
    keep_as: str
    scores: dict[str, float] = field(default_factory=dict)


def build_column_mapping(headers: list[str], rules: MappingRules) -> ColumnMapping:
    """Decide once per document which header feeds which field."""
    columns = _overridden(headers, rules.fields)
    scores: dict[str, float] = {}
    if rules.fuzzy and rules.standard_fields:
        free_headers = [h for h in headers if h not in columns and normalise(h)]
        taken = set(columns.values()) | set(rules.fields)  # an overridden field is never auto-filled
        free_fields = [f for f in dict.fromkeys(rules.standard_fields) if f not in taken]
        for header, (target, score) in _detected(free_headers, free_fields, rules.fuzzy_threshold).items():
            columns[header] = target
            scores[header] = score
    unmapped = [h for h in headers if h not in columns]
    return ColumnMapping(columns, unmapped, rules.keep_unmapped_as, scores)


def _overridden(headers: list[str], fields: dict[str, str]) -> dict[str, str]:
    """Header → target for each manual override whose column is present."""
    by_norm: dict[str, str] = {}
    for header in headers:
        by_norm.setdefault(normalise(header), header)  # a duplicate header's first occurrence wins
    columns: dict[str, str] = {}
    for target, source in fields.items():
        found = by_norm.get(normalise(source))
        if found is not None and found not in columns:
            columns[found] = target
    return columns


def _detected(headers: list[str], targets: list[str], threshold: int) -> dict[str, tuple[str, float]]:
    """Header → (target, score): the one-to-one assignment of headers to targets, among the
    pairs scoring at least ``threshold``, with the highest total score. Ties go to the larger
    total ``Fit.preference`` (exact names before fuzzy ones, specific synonyms before generic
    ones), then to earlier headers, so the result depends only on the input."""
    fits = {(hi, ti): fit(h, t) for hi, h in enumerate(headers) for ti, t in enumerate(targets)}
    allowed = {pair: f for pair, f in fits.items() if f.score >= threshold}
    if not allowed:
        return {}
    # One weight orders pairs lexicographically by (total score, total preference, header order):
    # each lower term, summed over at most len(targets) pairs, stays below one unit of the next.
    order_unit = len(targets) * len(headers) + 1
    score_unit = len(targets) * PREFERENCE_LEVELS * order_unit + order_unit
    weights = [[0] * len(targets) for _ in headers]
    for (hi, ti), f in allowed.items():
        weights[hi][ti] = round(f.score * 100) * score_unit + f.preference * order_unit + len(headers) - hi
    chosen = _max_weight_matching(weights)
    return {headers[hi]: (targets[ti], allowed[hi, ti].score) for hi, ti in chosen if (hi, ti) in allowed}


def _max_weight_matching(weights: list[list[int]]) -> list[tuple[int, int]]:
    """(row, column) pairs, each row and column at most once, maximising the total weight
    (weights ≥ 0; a pair of weight 0 is as good as none). Hungarian algorithm, O(n²·m)."""
    if len(weights) > len(weights[0]):
        transposed = [list(column) for column in zip(*weights, strict=True)]
        return [(r, c) for c, r in _max_weight_matching(transposed)]
    n, m = len(weights), len(weights[0])
    top = max(max(row) for row in weights)
    u, v = [0] * (n + 1), [0] * (m + 1)
    owner, way = [0] * (m + 1), [0] * (m + 1)  # owner[j]: the row (1-based) column j is assigned to
    for row in range(1, n + 1):
        owner[0], j0 = row, 0
        slack: list[float] = [math.inf] * (m + 1)
        used = [False] * (m + 1)
        while owner[j0]:
            used[j0] = True
            i0, delta, j1 = owner[j0], math.inf, 0
            for j in range(1, m + 1):
                if not used[j]:
                    reduced = top - weights[i0 - 1][j - 1] - u[i0] - v[j]
                    if reduced < slack[j]:
                        slack[j], way[j] = reduced, j0
                    if slack[j] < delta:
                        delta, j1 = slack[j], j
            step = int(delta)
            for j in range(m + 1):
                if used[j]:
                    u[owner[j]] += step
                    v[j] -= step
                else:
                    slack[j] -= step
            j0 = j1
        while j0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    return sorted((owner[j] - 1, j - 1) for j in range(1, m + 1) if owner[j])


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
    absent); without ``fields`` the record passes through unchanged. An expression that fails on
    this record (a function given the wrong type) gives a ``FieldFailure`` saying why, which
    validation turns into the field's violation.
    Raises ``jmespath.exceptions.JMESPathError`` for an invalid expression (a config error)."""
    if not rules.fields:
        return dict(record)
    out: dict[str, Any] = {}
    for target, expr in rules.fields.items():
        compiled = _compiled(expr)
        try:
            out[target] = compiled.search(record)
        except JMESPathError as exc:
            out[target] = FieldFailure(f"map.fields.{target} {expr!r} fails on this record: {exc}")
    return out


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
