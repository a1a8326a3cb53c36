"""Per-field rules with coercion of what spreadsheets and price lists really contain.

Coercion by ``type``:

- ``number``: ints, floats and text such as ``"1,234.50"``, ``"1.234,50"``, ``"12,5"`` (a comma
  is the decimal separator when there is no dot, unless it is a single comma followed by exactly
  three digits after a 1 to 3 digit non-zero head: ``"1,234"`` is 1234), ``"1 234"``, ``"1'234"``,
  currency symbols and codes (``"€ 12.50"``, ``"$3"``, ``"12.50 EUR"``) and accounting negatives
  ``"(5.00)"``. Stored as ``float`` (a JSON/BSON double, ~15 significant digits: enough for
  prices and quantities; declare the field ``string`` when the exact text matters). NaN and infinity are refused.
- ``integer``: as number, then it must be whole (``"12.0"`` → 12, ``"12.5"`` is refused) and fit
  in 64 bits (what MongoDB stores); ``int``. A number too large for a double (``"1e400"``) is refused.
- ``boolean``: true/false, yes/no, y/n, on/off, 1/0 (any case) and the numbers 1 and 0.
- ``date`` / ``datetime``: ``date``/``datetime`` objects (xlsx cells), ISO 8601 text, and Excel
  serial day numbers (1900 date system) as numbers or numeric text. Stored as ISO strings.
- ``string``: text with surrounding whitespace stripped; a whole float (an xlsx cell typed
  ``123``) becomes ``"123"``.

Then ``min``/``max`` (numbers and integers), ``pattern`` (``re.fullmatch`` on the coerced value's
text) and ``enum`` (the coerced value must be one of the list). ``required``: a missing key,
``None`` or blank text is a violation; a blank optional field becomes ``None``. Fields without
a rule pass through untouched.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

__all__ = ["FieldFailure", "FieldRuleSpec", "FieldViolation", "coerce", "validate_record"]

TYPES = ("string", "integer", "number", "boolean", "date", "datetime")
EXCEL_EPOCH = datetime(1899, 12, 30)  # serial 1 = 1900-01-01 once Lotus's phantom 1900-02-29 is allowed for
EXCEL_MAX_SERIAL = 2958465  # 9999-12-31
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # what MongoDB stores as an integer
TRUE = frozenset({"true", "t", "yes", "y", "1", "on"})
FALSE = frozenset({"false", "f", "no", "n", "0", "off"})
_CODE = re.compile(r"^[A-Z]{3}(?=[\d\s.,+(-])|(?<=[\d\s.,)])[A-Z]{3}$")
_PLAIN = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NUMERIC_TEXT = re.compile(r"\d+(\.\d+)?")
_SIMPLE = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,15})?")  # "49.90", "-3": no grouping, sign or currency to read


@dataclass(frozen=True)
class FieldRuleSpec:
    """One entry of the ``validate.fields`` section of a source config."""

    type: str = "string"
    required: bool = False
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    enum: list[Any] | None = None


@dataclass(frozen=True)
class FieldFailure:
    """Stands in a record for a value that could not be obtained (a ``map.fields`` JMESPath
    that fails on this record, such as ``abs(name)`` on text); ``validate_record`` reports
    ``reason`` as that field's violation, so the row is rejected naming the field."""

    reason: str


@dataclass(frozen=True)
class FieldViolation:
    """Why ``field`` of a record was refused, with the value as received."""

    field: str
    reason: str
    value: Any = None


def _grouped(integer: str, sep: str) -> str:
    if not re.fullmatch(rf"\d{{1,3}}(\{sep}\d{{3}})+", integer):
        raise ValueError
    return integer.replace(sep, "")


def _normalise_separators(text: str) -> str:
    if "," in text and "." in text:
        decimal_sep = "." if text.rfind(".") > text.rfind(",") else ","
        group_sep = "," if decimal_sep == "." else "."
        integer, _, fraction = text.rpartition(decimal_sep)
        return f"{_grouped(integer, group_sep)}.{fraction}"
    if text.count(",") > 1 or text.count(".") > 1:
        return _grouped(text, "," if "," in text else ".")
    if "," in text:
        head, _, tail = text.partition(",")
        if len(tail) == 3 and head.isdigit() and len(head) <= 3 and not head.startswith("0"):
            return head + tail  # "1,234": a thousands separator
        return f"{head}.{tail}"
    return text


def _number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float | Decimal):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        return Decimal(str(value))
    if type(value) is str and _SIMPLE.fullmatch(value):
        return Decimal(value)  # the common case, read as the general path below would read it
    text = str(value).strip()
    negative = text.startswith("(") and text.endswith(")")
    text = _CODE.sub("", text.strip("()") if negative else text)
    text = "".join(c for c in text if not (c.isspace() or c in "'\u2019" or unicodedata.category(c) == "Sc"))
    sign = ""
    if text and text[0] in "+-":
        sign, text = text[0], text[1:]
    try:
        text = _normalise_separators(text)
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None
    if not _PLAIN.fullmatch(text) or (negative and sign):
        raise ValueError(f"{value!r} is not a number")
    number = Decimal(sign + text)
    return -number if negative else number


def _integer(value: Any) -> int:
    number = _number(value)
    # checked before int(): int(Decimal("1e999999999")) would build a billion-digit integer
    if number.adjusted() >= 19 or not INT64_MIN <= number <= INT64_MAX:
        raise ValueError(f"{value!r} is outside the 64-bit integer range")
    if number != number.to_integral_value():
        raise ValueError(f"{value!r} is not a whole number")
    return int(number)


def _moment(value: Any, kind: str) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    serial: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        serial = float(value)
    else:
        text = str(value).strip()
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            if not _NUMERIC_TEXT.fullmatch(text):
                raise ValueError(f"{value!r} is not an ISO {kind} or an Excel serial") from None
            serial = float(text)
    if not 1 <= serial <= EXCEL_MAX_SERIAL:
        raise ValueError(f"{value!r} is outside the Excel serial date range")
    return EXCEL_EPOCH + timedelta(days=serial)


def _string(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"{value!r} is not a boolean")


def coerce(value: Any, kind: str) -> Any:
    """``value`` as ``kind``; raises ``ValueError`` with a reason an operator can act on."""
    if kind == "string":
        return _string(value)
    if kind == "number":
        number = float(_number(value))
        if not math.isfinite(number):  # "1e400": finite as text, infinite as a double
            raise ValueError(f"{value!r} is too large for a number")
        return number
    if kind == "integer":
        return _integer(value)
    if kind == "boolean":
        return _boolean(value)
    if kind == "date":
        return _moment(value, kind).date().isoformat()
    if kind == "datetime":
        return _moment(value, kind).isoformat()
    raise ValueError(f"unknown type {kind!r}; known: {', '.join(TYPES)}")


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check(name: str, typed: Any, raw: Any, rule: FieldRuleSpec) -> list[FieldViolation]:
    problems: list[FieldViolation] = []
    numeric = isinstance(typed, int | float) and not isinstance(typed, bool)
    if rule.min is not None and numeric and typed < rule.min:
        problems.append(FieldViolation(name, f"{typed:g} is below the minimum {rule.min:g}", raw))
    if rule.max is not None and numeric and typed > rule.max:
        problems.append(FieldViolation(name, f"{typed:g} is above the maximum {rule.max:g}", raw))
    if rule.pattern is not None:
        try:
            matched = _regex(rule.pattern).fullmatch(_string(typed)) is not None
        except re.error as exc:
            problems.append(FieldViolation(name, f"the rule's pattern {rule.pattern!r} is invalid: {exc}", raw))
        else:
            if not matched:
                problems.append(FieldViolation(name, f"{typed!r} does not match {rule.pattern!r}", raw))
    if rule.enum is not None and typed not in rule.enum:
        problems.append(FieldViolation(name, f"{typed!r} is not one of {rule.enum}", raw))
    return problems


def validate_record(
    record: dict[str, Any], rules: dict[str, FieldRuleSpec]
) -> tuple[dict[str, Any], list[FieldViolation]]:
    """The record with ruled fields coerced, and every violation found (empty when valid).
    A field that fails coercion keeps its raw value in the returned record."""
    clean = dict(record)
    problems: list[FieldViolation] = []
    for name, value in record.items():
        if isinstance(value, FieldFailure):
            problems.append(FieldViolation(name, value.reason))
            clean[name] = None
    for name, rule in rules.items():
        value = record.get(name)
        if isinstance(value, FieldFailure):
            continue
        if _blank(value):
            if rule.required:
                problems.append(FieldViolation(name, "required value is missing", value))
            clean[name] = None
            continue
        try:
            typed = coerce(value, rule.type)
        except ValueError as exc:
            problems.append(FieldViolation(name, str(exc), value))
            continue
        problems += _check(name, typed, value, rule)
        clean[name] = typed
    return clean, problems
