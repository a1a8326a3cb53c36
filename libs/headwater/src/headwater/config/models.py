"""The source config contract: what an operator writes in YAML (docs/source-config-shape.md).

``SourceConfig`` is the root; its sections live by concept in ``request`` (the HTTP
request, auth, pagination), ``ingestion`` (schedule, fan-out, retries, windows) and
``processing`` (parse, map, validate, store, events), all on ``section.Section``. Every
section forbids unknown keys and is frozen. Cross-field rules report every problem of a
section at once, each at its own path (``errors.raise_issues``), so the loader can point
at the exact line. The attribute docstrings become the descriptions of
schemas/source-config.schema.json.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from headwater.config.errors import raise_issues
from headwater.config.expressions import jmespath_problem
from headwater.config.ingestion import (
    BackoffKind,
    IncrementalSpec,
    Ingestion,
    IngestionMode,
    IterationSpec,
    RetrySpec,
    WindowSpec,
)
from headwater.config.processing import (
    EventsSpec,
    FieldRule,
    FieldType,
    HistoryMode,
    MapSpec,
    ParseFormat,
    ParseSpec,
    StoreSpec,
    ValidateSpec,
)
from headwater.config.request import AuthType, HttpMethod, PaginationSpec, PaginationType, RequestSpec
from headwater.config.section import Section

__all__ = [
    "AuthType",
    "BackoffKind",
    "EventsSpec",
    "FieldRule",
    "FieldType",
    "HistoryMode",
    "HttpMethod",
    "IncrementalSpec",
    "Ingestion",
    "IngestionMode",
    "IterationSpec",
    "MapSpec",
    "PaginationSpec",
    "PaginationType",
    "ParseFormat",
    "ParseSpec",
    "RequestSpec",
    "RetrySpec",
    "SourceConfig",
    "StoreSpec",
    "ValidateSpec",
    "WindowSpec",
]

SLUG = r"^[a-z0-9][a-z0-9_-]{0,62}$"
_JSON_FORMATS = ("json", "ndjson")  # parse formats whose records are mapped by JMESPath


class SourceConfig(Section):
    """One data source. ``map`` and ``validate`` are ``map_`` and ``validate_`` in Python."""

    source_id: str = Field(pattern=SLUG)
    """slug: lowercase letters, digits, '-' and '_'"""
    description: str = ""
    enabled: bool = True
    ingestion: Ingestion
    parse: ParseSpec | None = None
    map_: MapSpec | None = Field(default=None, alias="map")
    validate_: ValidateSpec | None = Field(default=None, alias="validate")
    store: StoreSpec | None = None
    events: EventsSpec | None = None

    @model_validator(mode="after")
    def _store_key(self) -> SourceConfig:
        issues: list[tuple[tuple[str, ...], str]] = []
        if self.parse is not None and (self.store is None or not self.store.key):
            issues.append((("store", "key"), "a source with a parse section needs store.key (the natural key fields)"))
        if self.store is not None and self.store.mode == "snapshot" and self.ingestion.window is not None:
            issues.append(
                (
                    ("store", "mode"),
                    "snapshot mode needs the whole source in each delivery; a windowed source is incremental",
                )
            )
        if self.ingestion.incremental is not None and self.parse is None:
            issues.append(
                (
                    ("ingestion", "incremental"),
                    "incremental needs a parse section (the cursor is read from the records)",
                )
            )
        issues += self._map_path_issues()
        raise_issues(issues)
        return self

    def _map_path_issues(self) -> list[tuple[tuple[str, ...], str]]:
        """JSON records are mapped by JMESPath (``map.fields`` values); tables map by header name."""
        if self.parse is None or self.parse.format not in _JSON_FORMATS or self.map_ is None:
            return []
        issues: list[tuple[tuple[str, ...], str]] = []
        for target, expression in self.map_.fields.items():
            problem = jmespath_problem(expression, target)
            if problem:
                issues.append((("map", "fields", target), problem))
        return issues
