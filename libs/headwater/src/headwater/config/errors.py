"""Config errors with their place: ``file:line:column: dotted.path: message``.

Error taxonomy of the config package (all raised before anything runs, never retried):

- ``ConfigError`` — a file (or files) is not a valid source config; ``issues`` lists every
  problem, each with its location. The CLI prints it and exits 1; the planner's API answers 422.
- ``pydantic.ValidationError`` — a model was built from Python data (no file); its errors of
  type ``CONFIG_ISSUES`` carry the cross-field problems of a section (see ``raise_issues``).
- ``ValueError`` from ``to_dapr_schedule`` / ``parse_duration`` on text that bypassed the models.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NoReturn

from pydantic_core import PydanticCustomError

__all__ = ["CONFIG_ISSUES", "ConfigError", "ConfigIssue", "raise_issues"]

CONFIG_ISSUES = "source_config"


@dataclass(frozen=True)
class ConfigIssue:
    """One problem of a config file: where it is (1-based line and column, dotted path) and what."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(Exception):
    """Invalid source config file(s); ``issues`` lists every problem with its location."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        super().__init__("\n".join(str(issue) for issue in issues))
        self.issues = issues


def raise_issues(issues: Iterable[tuple[tuple[str, ...], str]]) -> None:
    """Raise the cross-field problems of a section at once, if there are any.

    Each issue is ``(path relative to the section, message)``; a model validator can raise
    only one error, so they travel together in its context and the loader splits them again.
    """
    found = [(tuple(path), message) for path, message in issues]
    if found:
        _raise(found)


def _raise(issues: list[tuple[tuple[str, ...], str]]) -> NoReturn:
    summary = "; ".join(f"{'.'.join(path)}: {message}" if path else message for path, message in issues)
    raise PydanticCustomError(
        CONFIG_ISSUES,
        "{summary}",
        {"summary": summary, "issues": [[list(path), message] for path, message in issues]},
    )
