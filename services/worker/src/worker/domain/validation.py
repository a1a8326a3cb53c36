"""Per-field rules with coercion (numbers as text, decimal commas, Excel dates …).

Numbers are stored as float; integers as int; dates and datetimes as ISO strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["FieldRuleSpec", "FieldViolation", "coerce", "validate_record"]

EXCEL_EPOCH = datetime(1899, 12, 30)
TRUE = {"true", "yes", "y", "1", "on"}
FALSE = {"false", "no", "n", "0", "off"}


@dataclass(frozen=True)
class FieldRuleSpec:
    type: str = "string"
    required: bool = False
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    enum: list[Any] | None = None


@dataclass(frozen=True)
class FieldViolation:
    field: str
    reason: str
    value: Any = None


def _number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    text = re.sub(r"[\s€$£¥]|EUR|USD|GBP", "", str(value))
    if "," in text and "." in text:
        text = text.replace(",", "") if text.rfind(".") > text.rfind(",") else text.replace(".", "").replace(",", ".")
    elif "," in text:
        head, _, tail = text.rpartition(",")
        text = f"{head.replace(',', '')}.{tail}" if len(tail) != 3 or "," in head or not head else head + tail
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None


def coerce(value: Any, kind: str) -> Any:
    if kind == "string":
        return value if isinstance(value, str) else str(value)
    if kind == "number":
        return float(_number(value))
    if kind == "integer":
        number = _number(value)
        if number != number.to_integral_value():
            raise ValueError(f"{value!r} is not a whole number")
        return int(number)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise ValueError(f"{value!r} is not a boolean")
    if kind in ("date", "datetime"):
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime(value.year, value.month, value.day)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            moment = EXCEL_EPOCH + timedelta(days=float(value))
        else:
            try:
                moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
            except ValueError:
                raise ValueError(f"{value!r} is not an ISO {kind}") from None
        return moment.date().isoformat() if kind == "date" else moment.isoformat()
    raise ValueError(f"unknown type {kind!r}")


def validate_record(
    record: dict[str, Any], rules: dict[str, FieldRuleSpec]
) -> tuple[dict[str, Any], list[FieldViolation]]:
    clean = dict(record)
    problems: list[FieldViolation] = []
    for name, rule in rules.items():
        value = record.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if rule.required:
                problems.append(FieldViolation(name, "required value is missing", value))
            clean[name] = None
            continue
        try:
            typed = coerce(value, rule.type)
        except ValueError as exc:
            problems.append(FieldViolation(name, str(exc), value))
            continue
        if rule.min is not None and isinstance(typed, int | float) and typed < rule.min:
            problems.append(FieldViolation(name, f"{typed:g} is below the minimum {rule.min:g}", value))
        if rule.max is not None and isinstance(typed, int | float) and typed > rule.max:
            problems.append(FieldViolation(name, f"{typed:g} is above the maximum {rule.max:g}", value))
        if rule.pattern is not None and not re.fullmatch(rule.pattern, str(typed)):
            problems.append(FieldViolation(name, f"{typed!r} does not match {rule.pattern!r}", value))
        if rule.enum is not None and typed not in rule.enum:
            problems.append(FieldViolation(name, f"{typed!r} is not one of {rule.enum}", value))
        clean[name] = typed
    return clean, problems
