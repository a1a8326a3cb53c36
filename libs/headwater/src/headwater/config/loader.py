"""Loading source configs from YAML with every error located: file:line:column and path.

All errors of a file are reported at once (``ConfigError.issues``). YAML is loaded with
``SafeLoader`` (no arbitrary objects); duplicate keys are errors.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from headwater.config.models import SourceConfig

__all__ = [
    "ConfigError",
    "ConfigIssue",
    "config_hash",
    "dump_source_config",
    "issues_from_validation",
    "load_source_config_file",
    "load_source_configs",
    "parse_source_configs",
]


@dataclass(frozen=True)
class ConfigIssue:
    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(ValueError):
    """Invalid source config file(s); ``issues`` lists every problem with its location."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues


def issues_from_validation(exc: ValidationError) -> list[tuple[str, str]]:
    """``(dotted path, message)`` per pydantic error, with our validators' ``@path`` refinement
    and friendlier texts for unknown keys and unknown choices."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        msg = err["msg"]
        kind = err["type"]
        if kind == "extra_forbidden":
            key = loc.pop() if loc else "?"
            msg = f"unknown key {key!r}"
            loc.append(key)
        elif kind == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            msg = f"{err.get('input')!r} is not one of: {expected.replace(' or ', ', ')}"
        elif kind == "missing":
            msg = "required key is missing"
        elif kind == "value_error":
            msg = msg.removeprefix("Value error, ")
            if msg.startswith("@"):
                rel, _, msg = msg[1:].partition(": ")
                loc += rel.split(".")
        elif kind == "string_pattern_mismatch" and loc and loc[-1] == "source_id":
            msg = f"{err.get('input')!r} is not a valid source_id: use lowercase letters, digits, '-' and '_'"
        loc = ["map" if p == "map_" else "validate" if p == "validate_" else p for p in loc]
        out.append((".".join(loc), msg))
    return out


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and remembers where each node starts."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key].start_mark.line + 1})", mark
            )
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _locate(node: yaml.Node, path: list[str]) -> tuple[int, int]:
    """Line and column (1-based) of ``path``'s key in the document; for a key that is not
    there (a missing field), the nearest parent key that is."""
    best: yaml.Node = node
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if str(k.value) == part), None)
            if match is None:
                break
            best, node = match
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = best = node.value[int(part)]
        else:
            break
    return best.start_mark.line + 1, best.start_mark.column + 1


def parse_source_configs(text: str, file: str = "<string>") -> list[SourceConfig]:
    """Every source config in ``text`` (one per YAML document), or ConfigError with all issues."""
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
        documents = list(yaml.load_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ConfigError([ConfigIssue(file, line, col, "", f"invalid YAML: {exc.problem or exc}")]) from None
    if not documents or all(d is None for d in documents):
        raise ConfigError([ConfigIssue(file, 1, 1, "", "the file holds no source config")])
    configs, issues = [], []
    for node, doc in zip(nodes, documents, strict=True):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            line, col = node.start_mark.line + 1, node.start_mark.column + 1
            issues.append(ConfigIssue(file, line, col, "", "a source config must be a mapping of keys to values"))
            continue
        try:
            configs.append(SourceConfig.model_validate(doc))
        except ValidationError as exc:
            for path, message in issues_from_validation(exc):
                line, col = _locate(node, path.split(".") if path else [])
                issues.append(ConfigIssue(file, line, col, path, message))
    if issues:
        raise ConfigError(issues)
    return configs


def load_source_config_file(path: Path) -> list[SourceConfig]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigIssue(str(path), 1, 1, "", f"cannot read file: {exc}")]) from None
    return parse_source_configs(text, str(path))


def load_source_configs(paths: list[Path]) -> list[SourceConfig]:
    """The configs of every file; all files' issues together in one ConfigError."""
    configs, issues = [], []
    for path in paths:
        try:
            configs += load_source_config_file(path)
        except ConfigError as exc:
            issues += exc.issues
    if issues:
        raise ConfigError(issues)
    return configs


def dump_source_config(config: SourceConfig) -> dict[str, Any]:
    """The normalised form (defaults filled in, JSON types): what the planner stores."""
    return config.model_dump(mode="json", by_alias=True)


def config_hash(config: SourceConfig) -> str:
    canonical = json.dumps(dump_source_config(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
