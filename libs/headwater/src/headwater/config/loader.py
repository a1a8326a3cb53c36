"""Loading source configs from YAML with every error located: ``file:line:column: path: message``.

YAML is read with a ``SafeLoader`` (no arbitrary objects) that keeps each document's node
tree, so a validation error's path maps back to the line and column of its key. Every
problem of a file is reported at once, duplicate keys included. A file may hold several
documents separated by ``---``, each one source.

Whatever the text, the outcome is configs or ``ConfigError``: characters YAML refuses (NUL,
control characters), scalars that cannot be built (``2001-13-45``, a 5,000-digit integer),
documents nested too deeply, alias bombs and self-referencing aliases (``yaml_guard``) are
issues with a line and column like any other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from headwater.config.diagnostics import explain
from headwater.config.errors import ConfigError, ConfigIssue
from headwater.config.models import SourceConfig
from headwater.config.yaml_guard import MAX_DEPTH, YamlLimitError, check_expansion

__all__ = ["load_source_config_file", "load_source_configs", "parse_source_configs"]


class _Loader(yaml.SafeLoader):
    """SafeLoader that records duplicate keys instead of letting the last one win silently."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[yaml.Node, str]] = []
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        # composing is recursive: refuse deep nesting before it exhausts the stack
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise YamlLimitError(problem=f"nested deeper than {MAX_DEPTH} levels", problem_mark=mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:  # e.g. 2001-13-45, or an integer past 4,300 digits
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {node.value!r:.60}: {exc}", node.start_mark
            ) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:  # an unhashable key: construct_mapping below reports it
                continue
            if first is not key_node:
                message = f"duplicate key {key!r} (first at line {first.start_mark.line + 1})"
                self.duplicates.append((key_node, message))
        return super().construct_mapping(node, deep=deep)


def _read_documents(text: str, file: str) -> tuple[list[tuple[yaml.Node, Any]], list[ConfigIssue]]:
    """Each document's node tree and data, plus the duplicate-key issues."""
    documents: list[tuple[yaml.Node, Any]] = []
    loader: _Loader | None = None
    try:
        loader = _Loader(text)  # the reader checks the characters here already
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                check_expansion(node)
                documents.append((node, loader.construct_document(node)))
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow; it has no mark
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise ConfigError(
            [ConfigIssue(file, line, column, "", f"invalid YAML: character {_codepoint(exc.character)} is not allowed")]
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"invalid YAML: {exc.problem or exc}"
        if not isinstance(exc, YamlLimitError) and ("alias" in message or "alphabetic or numeric character" in message):
            message += " (quote values that start with '*' or '&', such as a cron schedule)"
        raise ConfigError([ConfigIssue(file, line, col, "", message)]) from None
    finally:
        if loader is not None:
            loader.dispose()
    issues = [
        _at(file, key, ".".join(_path_to(key, [root for root, _ in documents]) or []), message)
        for key, message in loader.duplicates
    ]
    return documents, issues


def _codepoint(character: int | bytes) -> str:
    return f"U+{character:04X}" if isinstance(character, int) else f"byte {character!r}"


def _path_to(target: yaml.Node, roots: list[yaml.Node]) -> list[str] | None:
    """The dotted-path parts of the key node ``target`` (None when not found)."""
    stack: list[tuple[yaml.Node, list[str]]] = [(root, []) for root in roots]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if id(node) in seen:  # aliases can make the tree a graph
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key is target:
                    return [*path, str(key.value)]
                stack.append((value, [*path, str(key.value)]))
        elif isinstance(node, yaml.SequenceNode):
            stack += [(item, [*path, str(i)]) for i, item in enumerate(node.value)]
    return None


def _at(file: str, node: yaml.Node, path: str, message: str) -> ConfigIssue:
    return ConfigIssue(file, node.start_mark.line + 1, node.start_mark.column + 1, path, message)


def _locate(node: yaml.Node, path: Iterable[str]) -> yaml.Node:
    """The key node of ``path`` in the document; for a key that is not there (a missing
    field) the nearest enclosing key that is."""
    best = node
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in reversed(node.value) if str(k.value) == part), None)
            if match is None:
                break
            best, node = match
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = best = node.value[int(part)]
        else:
            break
    return best


def _parse(text: str, file: str) -> list[tuple[SourceConfig, yaml.Node]]:
    """Each valid document's config with its node tree, or ConfigError with every issue."""
    documents, issues = _read_documents(text, file)
    documents = [(node, data) for node, data in documents if data is not None]
    if not documents:
        raise ConfigError([ConfigIssue(file, 1, 1, "", "the file holds no source config")])
    configs: list[tuple[SourceConfig, yaml.Node]] = []
    for node, data in documents:
        if not isinstance(data, dict):
            issues.append(_at(file, node, "", "a source config must be a mapping of keys to values"))
            continue
        try:
            configs.append((SourceConfig.model_validate(data), node))
        except ValidationError as exc:
            issues += [_at(file, _locate(node, path), ".".join(path), message) for path, message in explain(exc)]
    if issues:
        raise ConfigError(sorted(issues, key=lambda i: (i.line, i.column)))
    return configs


def parse_source_configs(text: str, file: str = "<string>") -> list[SourceConfig]:
    """Every source config in ``text`` (one per YAML document), or ConfigError with all issues.

    ``file`` only names the text in the issues.
    """
    return [config for config, _ in _parse(text, file)]


def _read(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigIssue(str(path), 1, 1, "", f"cannot read file: {exc}")]) from None


def load_source_config_file(path: Path | str) -> SourceConfig:
    """The one source config of a file; ConfigError if it is invalid or holds several documents
    (use ``load_source_configs`` for those)."""
    configs = parse_source_configs(_read(Path(path)), str(path))
    if len(configs) != 1:
        message = f"the file holds {len(configs)} source configs; load it with load_source_configs"
        raise ConfigError([ConfigIssue(str(path), 1, 1, "", message)])
    return configs[0]


def load_source_configs(paths: Iterable[Path | str]) -> list[SourceConfig]:
    """The configs of every document of every file, or one ConfigError with every file's issues
    (a source_id defined twice included)."""
    configs: list[SourceConfig] = []
    issues: list[ConfigIssue] = []
    defined: dict[str, ConfigIssue] = {}
    for path in paths:
        try:
            found = _parse(_read(Path(path)), str(path))
        except ConfigError as exc:
            issues += exc.issues
            continue
        for config, node in found:
            here = _at(str(path), _locate(node, ["source_id"]), "source_id", "")
            first = defined.setdefault(config.source_id, here)
            if first is not here:
                message = f"duplicate source_id {config.source_id!r} (first in {first.file}:{first.line})"
                issues.append(replace(here, message=message))
            configs.append(config)
    if issues:
        raise ConfigError(issues)
    return configs
