"""JMESPath expressions of a config, compiled when it is validated.

A broken expression (``records_path: orders[``) is then refused by ``headwater sources
validate`` and ``apply`` with the path of the key, instead of failing every fetch or parse
at run time. Regular expressions (``validate.fields.<f>.pattern``) are compiled by their
field's own validator in ``processing``.
"""

from __future__ import annotations

from typing import Annotated

import jmespath
from jmespath.exceptions import IncompleteExpressionError, JMESPathError, LexerError, ParseError
from pydantic import AfterValidator, ValidationInfo

__all__ = ["JMESPath", "jmespath_problem"]

_PREFIXES = ("Invalid jmespath expression: ", "Bad jmespath expression: ")


def jmespath_problem(expression: str, name: str) -> str | None:
    """Why ``expression`` (the value of key ``name``) does not compile, or None when it does.
    An empty string means "not set" to the services, so it is not a problem."""
    if not expression:
        return None
    try:
        jmespath.compile(expression)
    except JMESPathError as exc:
        return f"{name} {expression!r} is not a valid JMESPath expression ({_reason(exc)})"
    return None


def _reason(exc: JMESPathError) -> str:
    """jmespath's message in one line, with the column."""
    if isinstance(exc, ParseError) and not isinstance(exc, IncompleteExpressionError | LexerError):
        return f"{exc.msg} at column {exc.lex_position}"  # str() repeats the expression on more lines
    text = str(exc).splitlines()[0].removesuffix(":")
    for prefix in _PREFIXES:
        text = text.removeprefix(prefix)
    position = getattr(exc, "lex_position", None)
    if isinstance(position, int) and "column" not in text:
        text += f" at column {position}"
    return text


def _compiles(value: str, info: ValidationInfo) -> str:
    problem = jmespath_problem(value, info.field_name or "expression")
    if problem:
        raise ValueError(problem)
    return value


JMESPath = Annotated[str, AfterValidator(_compiles)]
"""A string field holding a JMESPath expression; refused when it does not compile."""
