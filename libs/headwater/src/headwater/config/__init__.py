"""The source config contract: models, YAML loading with locations, schedules, templates."""

from headwater.config.durations import format_duration, parse_duration
from headwater.config.loader import (
    ConfigError,
    ConfigIssue,
    config_hash,
    dump_source_config,
    issues_from_validation,
    load_source_config_file,
    load_source_configs,
    parse_source_configs,
)
from headwater.config.models import (
    EventsSpec,
    FieldRule,
    Ingestion,
    IterationSpec,
    MapSpec,
    PaginationSpec,
    ParseSpec,
    RequestSpec,
    RetrySpec,
    SourceConfig,
    StoreSpec,
    ValidateSpec,
    WindowSpec,
)
from headwater.config.schedule import to_dapr_schedule
from headwater.config.schema import json_schema

__all__ = [
    "ConfigError",
    "ConfigIssue",
    "EventsSpec",
    "FieldRule",
    "Ingestion",
    "IterationSpec",
    "MapSpec",
    "PaginationSpec",
    "ParseSpec",
    "RequestSpec",
    "RetrySpec",
    "SourceConfig",
    "StoreSpec",
    "ValidateSpec",
    "WindowSpec",
    "config_hash",
    "dump_source_config",
    "format_duration",
    "issues_from_validation",
    "json_schema",
    "load_source_config_file",
    "load_source_configs",
    "parse_duration",
    "parse_source_configs",
    "to_dapr_schedule",
]
