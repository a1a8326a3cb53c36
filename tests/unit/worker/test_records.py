"""worker.domain.records: natural keys and record content hashes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worker.domain.records import MissingKeyError, canonical_json, natural_key, record_content_hash


def test_natural_key_joins_stripped_parts() -> None:
    assert natural_key({"a": " x ", "b": 2, "c": "ignored"}, ["a", "b"]) == "x|2"
    assert natural_key({"sku": 12.0}, ["sku"]) == natural_key({"sku": "12"}, ["sku"]) == "12"


def test_separator_inside_a_part_cannot_collide() -> None:
    assert natural_key({"a": "x|y", "b": "z"}, ["a", "b"]) != natural_key({"a": "x", "b": "y|z"}, ["a", "b"])


@pytest.mark.parametrize("record", [{}, {"sku": None}, {"sku": ""}, {"sku": "   "}])
def test_missing_or_empty_key_field(record: dict[str, object]) -> None:
    with pytest.raises(MissingKeyError) as caught:
        natural_key({"region": "EU", **record}, ["region", "sku"])
    assert caught.value.field == "sku" and caught.value.args[0] == "sku"
    assert str(caught.value) == "natural key field 'sku' is missing or empty"


def test_zero_and_false_are_real_key_values() -> None:
    assert natural_key({"a": 0, "b": False}, ["a", "b"]) == "0|False"


def test_content_hash_ignores_key_order_and_sees_every_change() -> None:
    assert record_content_hash({"a": 1, "b": {"y": 2, "x": 1}}) == record_content_hash({"b": {"x": 1, "y": 2}, "a": 1})
    assert record_content_hash({"a": 1}) != record_content_hash({"a": 2})
    assert record_content_hash({"a": 1}) != record_content_hash({"a": "1"})
    digest = record_content_hash({"when": datetime(2026, 1, 1), "text": "Größe"})
    assert len(digest) == 64 and digest == record_content_hash({"text": "Größe", "when": datetime(2026, 1, 1)})


# records as parsers and validation produce them: JSON values, times, awkward floats and text
_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.datetimes(timezones=st.none() | st.just(UTC))
    | st.dates()
)
_values = st.recursive(_leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3))


@settings(max_examples=400, deadline=None)
@given(record=st.dictionaries(st.text(), _values, max_size=6))
def test_fast_content_hash_is_the_hash_of_the_reference_canonical_json(record: dict[str, object]) -> None:
    """Hashes stored before orjson did the encoding stay valid: the fast path hashes the bytes
    ``json.dumps`` (the reference) writes, for every value, falling back where they would differ."""
    assert record_content_hash(record) == hashlib.sha256(canonical_json(record)).hexdigest()


@pytest.mark.parametrize("value", [1e-05, -3.2e-08, float("nan"), float("inf"), 2**65, "\ud800", 0.0001, 1e16])
def test_values_orjson_writes_differently_hash_as_before(value: object) -> None:
    assert record_content_hash({"v": value}) == hashlib.sha256(canonical_json({"v": value})).hexdigest()
