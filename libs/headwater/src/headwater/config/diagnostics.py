"""Pydantic validation errors rewritten for people editing YAML.

Each error becomes ``(path, message)``: the path as a tuple of keys (``map`` and ``validate``
rather than the Python names), the message naming the offending key or value and, for unknown
keys and choices, what would have been accepted.
"""

from __future__ import annotations

import difflib
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from headwater.config.errors import CONFIG_ISSUES
from headwater.config.models import SourceConfig

__all__ = ["Problem", "explain", "issues_from_validation"]

Problem = tuple[tuple[str, ...], str]
_PYTHON_NAMES = {"map_": "map", "validate_": "validate"}


def explain(exc: ValidationError, model: type[BaseModel] = SourceConfig) -> list[Problem]:
    """Every error of ``exc`` as ``(path, message)``; ``model`` is what was being validated."""
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(_PYTHON_NAMES.get(str(p), str(p)) for p in err["loc"])
        if err["type"] == CONFIG_ISSUES:
            problems += [((*loc, *rel), message) for rel, message in err.get("ctx", {}).get("issues", [])]
        else:
            problems.append((loc, _message(err, loc, model)))
    return problems


def issues_from_validation(exc: ValidationError) -> list[tuple[str, str]]:
    """``(dotted path, message)`` per problem of a SourceConfig validation error (e.g. for an API's 422)."""
    return [(".".join(path), message) for path, message in explain(exc)]


def _message(err: ErrorDetails, loc: tuple[str, ...], model: type[BaseModel]) -> str:
    kind, value = err["type"], err.get("input")
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    if kind == "extra_forbidden":
        key = loc[-1] if loc else "?"
        close = difflib.get_close_matches(key, _keys_at(model, loc[:-1]), n=1, cutoff=0.7)
        return f"unknown key {key!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace(" or ", ", ")
        return f"{value!r} is not one of: {expected}"
    if kind == "missing":
        return f"required key {loc[-1]!r} is missing" if loc else "a required key is missing"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of keys to values, got {_describe(value)}"
    if kind == "list_type":
        return f"expected a list, got {_describe(value)}"
    if kind == "string_type":
        hint = "; quote it" if isinstance(value, bool | int | float) else ""
        return f"expected a string, got {_describe(value)}{hint}"
    if kind == "string_pattern_mismatch" and loc and loc[-1] == "source_id":
        return f"{value!r} is not a valid source_id: 1-63 lowercase letters, digits, '-' and '_', starting alphanumeric"
    if kind == "value_error":
        return err["msg"].removeprefix("Value error, ")
    return err["msg"]


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _unwrap(tp: Any) -> Any:
    origin = get_origin(tp)
    if origin is Annotated:
        return _unwrap(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else tp
    return tp


def _keys_at(model: type[BaseModel], path: tuple[str, ...]) -> list[str]:
    """The YAML keys the section at ``path`` accepts (empty when it is not a model)."""
    tp: Any = model
    for part in path:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            fields = {f.alias or name: f for name, f in tp.model_fields.items()}
            if part not in fields:
                return []
            tp = fields[part].annotation
        elif get_origin(tp) in (dict, list):
            tp = get_args(tp)[-1]
        else:
            return []
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [f.alias or name for name, f in tp.model_fields.items()]
    return []
