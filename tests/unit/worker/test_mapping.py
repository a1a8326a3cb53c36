"""worker.domain.mapping: overrides, fuzzy matching, unmapped columns, JSON records."""

from __future__ import annotations

from dataclasses import replace

import pytest
from jmespath.exceptions import JMESPathError

from worker.domain.mapping import Mapper, MappingRules, apply_mapping, build_column_mapping, map_json_record

RULES = MappingRules(
    fields={"sku": "Product Code", "name": "description"},
    fuzzy=True,
    fuzzy_threshold=85,
    standard_fields=["sku", "name", "price", "currency"],
)


def test_overrides_win_over_an_exact_fuzzy_match() -> None:
    mapping = build_column_mapping(["SKU", " PRODUCT_CODE ", "Description"], RULES)
    assert mapping.columns == {" PRODUCT_CODE ": "sku", "Description": "name"}
    assert mapping.unmapped == ["SKU"]
    assert mapping.scores == {}


def test_fuzzy_matches_the_remaining_headers() -> None:
    mapping = build_column_mapping(["Product Code", "Unit Price", "Currency "], RULES)
    assert mapping.columns == {"Product Code": "sku", "Unit Price": "price", "Currency ": "currency"}
    assert mapping.scores["Currency "] == 100
    assert mapping.scores["Unit Price"] >= RULES.fuzzy_threshold


def test_an_overridden_field_is_not_fuzzy_filled_when_its_column_is_absent() -> None:
    mapping = build_column_mapping(["SKU", "Price"], RULES)
    assert mapping.columns == {"Price": "price"}


def test_each_field_and_header_is_used_once_best_score_first() -> None:
    rules = MappingRules(standard_fields=["price"], fuzzy_threshold=70)
    mapping = build_column_mapping(["Unit Price", "price", "Price "], rules)
    assert mapping.columns == {"price": "price"}  # the exact match, first of the two exact ones
    assert mapping.unmapped == ["Unit Price", "Price "]


def test_threshold_keeps_weak_matches_out_and_fuzzy_can_be_off() -> None:
    assert build_column_mapping(["Weight"], RULES).columns == {}
    off = replace(RULES, fuzzy=False)
    assert build_column_mapping(["Unit Price", "Product Code"], off).columns == {"Product Code": "sku"}


def test_unmapped_columns_go_to_characteristics_without_empty_cells() -> None:
    mapping = build_column_mapping(["Product Code", "Price", "Colour", "Size"], RULES)
    row = {"Product Code": "A-1", "Price": "1,5", "Colour": "red", "Size": None, "column_9": "x"}
    assert apply_mapping(row, mapping) == {
        "sku": "A-1",
        "price": "1,5",
        "characteristics": {"Colour": "red", "column_9": "x"},
    }
    assert apply_mapping({"Product Code": "A-2", "Colour": None}, mapping) == {"sku": "A-2"}


def test_keep_unmapped_as_names_the_bucket() -> None:
    mapping = build_column_mapping(["x"], MappingRules(keep_unmapped_as="extra"))
    assert apply_mapping({"x": 1}, mapping) == {"extra": {"x": 1}}


def test_json_records_map_with_jmespath_and_pass_through_without_fields() -> None:
    record = {"id": 7, "pricing": {"amount": 3.5}, "tags": ["a", "b"]}
    rules = MappingRules(fields={"sku": "id", "price": "pricing.amount", "tag": "tags[0]", "gone": "nope"})
    assert map_json_record(record, rules) == {"sku": 7, "price": 3.5, "tag": "a", "gone": None}
    passed = map_json_record(record, MappingRules())
    assert passed == record and passed is not record
    with pytest.raises(JMESPathError):
        map_json_record(record, MappingRules(fields={"x": "[["}))


def test_mapper_builds_the_column_mapping_once_from_the_first_row() -> None:
    mapper = Mapper(RULES, table=True)
    assert mapper({"Product Code": "A", "Price": "1"}) == {"sku": "A", "price": "1"}
    first = mapper.column_mapping
    assert mapper({"Product Code": "B", "Price": "2", "column_3": "x"}) == {
        "sku": "B",
        "price": "2",
        "characteristics": {"column_3": "x"},
    }
    assert mapper.column_mapping is first


def test_mapper_for_json_and_without_rules() -> None:
    assert Mapper(MappingRules(fields={"sku": "id"}), table=False)({"id": 1, "x": 2}) == {"sku": 1}
    assert Mapper(None, table=True)({"a": 1}) == {"a": 1}
