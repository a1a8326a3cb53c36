"""``parse``, ``map``, ``validate``, ``store``, ``events``: what becomes of a fetched document."""

from __future__ import annotations

import codecs
import re
from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from headwater.config.durations import Duration
from headwater.config.errors import raise_issues
from headwater.config.expressions import JMESPath
from headwater.config.section import Section

__all__ = [
    "EventsSpec",
    "FieldRule",
    "FieldType",
    "HistoryMode",
    "MapSpec",
    "ParseFormat",
    "ParseSpec",
    "StoreMode",
    "StoreSpec",
    "ValidateSpec",
]

ParseFormat = Literal["json", "ndjson", "csv", "xlsx", "sheets_values"]
HistoryMode = Literal["none", "scd2"]
StoreMode = Literal["incremental", "snapshot"]
FIELD_PATH = r"^[^.\s]+(\.[^.\s]+)*$"
FieldType = Literal["string", "integer", "number", "boolean", "date", "datetime"]


class ParseSpec(Section):
    """How the fetched document becomes records."""

    format: ParseFormat
    """json | ndjson | csv | xlsx | sheets_values"""
    records_path: JMESPath | None = None
    """json: JMESPath selecting the records list"""
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    """csv: detected when null"""
    encoding: str | None = None
    """csv: detected when null"""
    sheet: str | None = None
    """xlsx: sheet name (the first sheet when null)"""
    header_row: int = Field(default=1, ge=1)
    """csv / xlsx / sheets_values: 1-based row of the headers"""

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown encoding {value!r}") from None
        return value


class MapSpec(Section):
    """How source columns become the record's fields."""

    fields: dict[str, str] = Field(default_factory=dict)
    """target field -> source column (tables) or JMESPath (json); always wins over fuzzy matching"""
    fuzzy: bool = True
    """fuzzy-match remaining headers onto standard_fields"""
    fuzzy_threshold: int = Field(default=85, ge=0, le=100)
    standard_fields: list[str] = Field(default_factory=list)
    """the fields records should have, e.g. [sku, name, price, currency]"""
    keep_unmapped_as: str = "characteristics"
    """field collecting the columns that were not mapped"""


class FieldRule(Section):
    """A check on one field of every record."""

    type: FieldType = "string"
    """string | integer | number | boolean | date | datetime"""
    required: bool = False
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    """regular expression the value must match"""
    enum: list[Any] | None = None
    """the allowed values"""

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"pattern is not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _bounds(self) -> FieldRule:
        issues = []
        if self.min is not None and self.max is not None and self.min > self.max:
            issues.append((("min",), f"min ({self.min:g}) is greater than max ({self.max:g})"))
        if self.enum is not None and not self.enum:
            issues.append((("enum",), "enum needs at least one value"))
        raise_issues(issues)
        return self


class ValidateSpec(Section):
    """Record validation: field name -> rule."""

    fields: dict[str, FieldRule] = Field(default_factory=dict)


class StoreSpec(Section):
    """How records are kept."""

    key: list[str] = Field(default_factory=list)
    """natural key fields (required when parse is present)"""
    history: HistoryMode = "scd2"
    """none (overwrite) | scd2 (keep every version)"""
    mode: StoreMode = "incremental"
    """incremental (a document upserts its records) | snapshot (every complete delivery is the whole
    source: keys it no longer holds are closed as deleted)"""
    valid_from_path: str | None = None
    """dotted path of a record field (after map/validate) holding when the row's values became valid
    (datetime, date or ISO-8601 text; naive = UTC); null: processing time. An older version than the
    current one goes into the history at its place and never becomes current"""
    raw_retention: Duration | None = None
    """how long the worker keeps each received body (compressed, in raw_bodies) for `headwater reprocess`,
    counted from its latest processing (30d, 720h); null: forever"""

    @field_validator("raw_retention")
    @classmethod
    def _positive_retention(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value.total_seconds() <= 0:
            raise ValueError("raw_retention must be longer than 0s (leave it out to keep bodies forever)")
        return value

    @field_validator("valid_from_path")
    @classmethod
    def _field_path(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(FIELD_PATH, value):
            raise ValueError(f"{value!r} is not a dotted path of field names (e.g. effective_from, meta.updated_at)")
        return value


class EventsSpec(Section):
    """Change events published after each stored batch."""

    enabled: bool = True
    records_changed_batch: int = Field(default=500, ge=1, le=10_000)
