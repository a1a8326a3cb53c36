"""How well one source header fits one standard field: normalised names, synonyms, fuzzy scores.

A header *is* a field when, normalised (lower case; punctuation, underscores and runs of
whitespace become one space) and with spaces removed, it equals the field's own name or one of
its ``SYNONYMS`` ("Product-Code", "product_code" and "ProductCode" all are ``sku``): score 100.
Otherwise it scores the best of rapidfuzz ``WRatio`` against the field's name (so "Unit Prices"
still finds ``price``) and ``token_sort_ratio`` against each synonym of at least
``FUZZY_SYNONYM_MIN`` characters (typos and word order: "Prodcut Code", "Price Unit"). Short
synonyms ("qty", "code", "units") match exactly only: one letter off is another word ("Unit").

Synonyms are listed most specific first; when two headers fit a field equally well, the one
matching the earlier name wins (see ``Fit.preference``). The table covers the fields the
shipped source configs use; a field it does not list is matched on its own name only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

__all__ = ["FUZZY_SYNONYM_MIN", "PREFERENCE_LEVELS", "SYNONYMS", "Fit", "fit", "normalise"]

SYNONYMS: Mapping[str, tuple[str, ...]] = {
    "sku": (
        "product code",
        "item code",
        "article number",
        "article no",
        "part number",
        "part no",
        "item number",
        "item no",
        "code",
    ),
    "name": ("product name", "item name", "description", "title", "product", "item"),
    "price": ("unit price", "net price", "list price", "cost", "amount"),
    "quantity": ("qty", "stock", "units"),
    "currency": ("currency code", "curr", "ccy"),
    "location": ("warehouse", "bin"),
}

FUZZY_SYNONYM_MIN = 6
PREFERENCE_LEVELS = 1 + max(len(names) for names in SYNONYMS.values())


@dataclass(frozen=True)
class Fit:
    """``score`` 0..100; ``preference`` breaks ties between equal scores: for an exact match
    ``PREFERENCE_LEVELS`` minus the position of the matched name (the field's own name is
    position 0, its synonyms follow), 0 for a fuzzy one."""

    score: float
    preference: int = 0


def normalise(text: str) -> str:
    """Lower case; punctuation, underscores and whitespace runs → one space; trimmed."""
    return re.sub(r"[\W_]+", " ", text.lower()).strip()


@lru_cache(maxsize=256)
def _names(target: str) -> tuple[str, ...]:
    """The field's normalised name followed by its synonyms."""
    own = normalise(target)
    return (own, *(normalise(s) for s in SYNONYMS.get(own, ())))


def fit(header: str, target: str) -> Fit:
    """How well ``header`` fits the standard field ``target`` (see the module docstring)."""
    norm = normalise(header)
    if not norm:
        return Fit(0.0)
    names = _names(target)
    compact = norm.replace(" ", "")
    for position, name in enumerate(names):
        if compact == name.replace(" ", ""):
            return Fit(100.0, PREFERENCE_LEVELS - position)
    scores = [fuzz.WRatio(norm, names[0])]
    scores += [fuzz.token_sort_ratio(norm, s) for s in names[1:] if len(s) >= FUZZY_SYNONYM_MIN]
    return Fit(max(scores))
