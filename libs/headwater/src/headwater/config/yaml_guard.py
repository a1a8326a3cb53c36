"""Limits on what a source config's YAML may expand to, checked before anything is built.

A YAML alias re-uses its anchor's node, so ten lines can describe a billion values ("billion
laughs") or a value that contains itself. Nothing downstream is built for that: validation,
``RequestSpec.templates`` and hashing walk every value. So each document is refused, quickly
and with its line, when its node graph expanded through aliases has more than ``MAX_NODES``
nodes, is nested deeper than ``MAX_DEPTH`` levels, or refers to itself. Nesting is also
limited while composing (PyYAML composes recursively: 5,000 ``[`` would exhaust the stack).
A real source config has a few hundred nodes and fewer than ten levels.
"""

from __future__ import annotations

import yaml

__all__ = ["MAX_DEPTH", "MAX_NODES", "YamlLimitError", "check_expansion"]

MAX_NODES = 100_000
MAX_DEPTH = 50


class YamlLimitError(yaml.MarkedYAMLError):
    """A document past one of the limits; ``problem_mark`` is where it was noticed."""


def check_expansion(root: yaml.Node) -> None:
    """Raise YamlLimitError unless ``root`` expands within ``MAX_NODES`` and ``MAX_DEPTH``
    without a cycle. Linear in the number of distinct nodes (each node's size and height are
    memoised, so an anchor used a million times is measured once)."""
    _measure(root, 1, set(), {})


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _measure(node: yaml.Node, depth: int, path: set[int], memo: dict[int, tuple[int, int]]) -> tuple[int, int]:
    """(expanded size, height) of ``node`` met at ``depth``."""
    known = memo.get(id(node))
    if known is None:
        if id(node) in path:
            raise YamlLimitError(problem="an alias refers to a value that contains it", problem_mark=node.start_mark)
        if depth > MAX_DEPTH:
            raise YamlLimitError(problem=f"nested deeper than {MAX_DEPTH} levels", problem_mark=node.start_mark)
        path.add(id(node))
        size, height = 1, 1
        for child in _children(node):
            child_size, child_height = _measure(child, depth + 1, path, memo)
            size, height = size + child_size, max(height, child_height + 1)
            if size > MAX_NODES:
                problem = f"expands to more than {MAX_NODES} values through aliases (an anchor re-used too often)"
                raise YamlLimitError(problem=problem, problem_mark=node.start_mark)
        path.discard(id(node))
        known = memo[id(node)] = (size, height)
    if depth + known[1] - 1 > MAX_DEPTH:
        raise YamlLimitError(problem=f"nested deeper than {MAX_DEPTH} levels", problem_mark=node.start_mark)
    return known
