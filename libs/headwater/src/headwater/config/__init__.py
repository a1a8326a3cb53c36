"""The source config contract: models, YAML loading with locations, schedules, templates.

``load_source_configs`` turns YAML files into frozen ``SourceConfig`` models or raises one
``ConfigError`` listing every problem as ``file:line:column: dotted.path: message``.
"""

from headwater.config.contract_schema import json_schema
from headwater.config.diagnostics import issues_from_validation
from headwater.config.durations import format_duration, parse_duration
from headwater.config.errors import ConfigError, ConfigIssue
from headwater.config.hashing import config_hash, dump_source_config
from headwater.config.loader import load_source_config_file, load_source_configs, parse_source_configs
from headwater.config.models import (
    AuthType,
    EventsSpec,
    FieldRule,
    FieldType,
    HistoryMode,
    IncrementalSpec,
    Ingestion,
    IngestionMode,
    IterationSpec,
    MapSpec,
    PaginationSpec,
    PaginationType,
    ParseFormat,
    ParseSpec,
    RequestSpec,
    RetrySpec,
    SourceConfig,
    StoreSpec,
    ValidateSpec,
    WindowSpec,
)
from headwater.config.schedule import check_schedule, to_dapr_schedule
from headwater.config.templates import check_template, template_variables

__all__ = [
    "AuthType",
    "ConfigError",
    "ConfigIssue",
    "EventsSpec",
    "FieldRule",
    "FieldType",
    "HistoryMode",
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
    "check_schedule",
    "check_template",
    "config_hash",
    "dump_source_config",
    "format_duration",
    "issues_from_validation",
    "json_schema",
    "load_source_config_file",
    "load_source_configs",
    "parse_duration",
    "parse_source_configs",
    "template_variables",
    "to_dapr_schedule",
]
