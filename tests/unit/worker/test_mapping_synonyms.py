"""worker.domain.mapping + worker.domain.synonyms: headers auto-detected by synonyms and fuzzy
scores, one to one, overrides first; and a supplier price list through the document processor."""

from __future__ import annotations

import itertools

import pytest
from worker_support import CONFIG, App, doc  # type: ignore[import-not-found]

from headwater.config import SourceConfig
from headwater.contracts.messages import TaskStatus
from worker.domain.mapping import MappingRules, apply_mapping, build_column_mapping
from worker.domain.synonyms import SYNONYMS, fit
from worker.service_layer.outcomes import Processed

FIELDS = ["sku", "name", "price", "quantity", "currency", "location"]
RULES = MappingRules(standard_fields=FIELDS)


def test_a_supplier_price_list_maps_without_overrides() -> None:
    rules = MappingRules(standard_fields=["sku", "name", "price", "quantity"])
    mapping = build_column_mapping(["Product Code", "Description", "Unit Price", "Qty"], rules)
    assert mapping.columns == {"Product Code": "sku", "Description": "name", "Unit Price": "price", "Qty": "quantity"}
    assert mapping.unmapped == []
    assert set(mapping.scores.values()) == {100}


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("product_code", "sku"),
        ("PRODUCT-CODE", "sku"),
        ("ProductCode", "sku"),
        ("  Article No. ", "sku"),
        ("Part  Number", "sku"),
        ("unit_price", "price"),
        ("Qty.", "quantity"),
        ("CCY", "currency"),
        ("Warehouse", "location"),
    ],
)
def test_headers_are_normalised_before_they_are_compared(header: str, target: str) -> None:
    assert fit(header, target).score == 100
    assert build_column_mapping([header], RULES).columns == {header: target}


def test_close_variants_of_long_synonyms_match_but_short_ones_only_exactly() -> None:
    assert build_column_mapping(["Prodcut Code", "Price Unit"], RULES).columns == {
        "Prodcut Code": "sku",
        "Price Unit": "price",
    }
    assert build_column_mapping(["Unit"], RULES).columns == {}  # not "Units": a unit of measure


def test_overrides_win_over_synonyms() -> None:
    rules = MappingRules(fields={"name": "Product Code", "sku": "Item No"}, standard_fields=FIELDS)
    mapping = build_column_mapping(["Product Code", "Item No", "Part Number", "Description"], rules)
    assert mapping.columns == {"Product Code": "name", "Item No": "sku"}
    assert mapping.unmapped == ["Part Number", "Description"]  # sku and name are taken by overrides
    assert mapping.scores == {}


def test_an_overridden_field_stays_empty_rather_than_taking_a_synonym() -> None:
    rules = MappingRules(fields={"sku": "Art.-Nr."}, standard_fields=FIELDS)
    assert build_column_mapping(["Product Code", "Price"], rules).columns == {"Price": "price"}


def test_ambiguous_headers_map_the_same_way_in_any_order() -> None:
    headers = ["Code", "Item Code", "Price", "Unit Price", "Item", "Product Name"]
    expected = {"Item Code": "sku", "Price": "price", "Product Name": "name"}  # own name, then specific
    for order in itertools.permutations(headers):
        assert build_column_mapping(list(order), RULES).columns == expected


def test_equal_headers_go_to_the_first_one() -> None:
    assert build_column_mapping(["Unit-Price", "unit price"], RULES).columns == {"Unit-Price": "price"}
    assert build_column_mapping(["unit price", "Unit-Price"], RULES).columns == {"unit price": "price"}


def test_the_assignment_with_the_best_total_wins_over_the_single_best_pair() -> None:
    # "Product Number" fits name (≈85) better than sku (80), but "Item Description" fits only
    # name (≈82): both are mapped only if "Product Number" takes sku.
    rules = MappingRules(standard_fields=["sku", "name"], fuzzy_threshold=80)
    assert fit("Product Number", "name").score > fit("Product Number", "sku").score >= 80
    mapping = build_column_mapping(["Product Number", "Item Description"], rules)
    assert mapping.columns == {"Product Number": "sku", "Item Description": "name"}


@pytest.mark.parametrize("threshold", [80, 85])
def test_an_unrelated_header_is_not_mapped_and_kept_as_a_characteristic(threshold: int) -> None:
    rules = MappingRules(standard_fields=FIELDS, fuzzy_threshold=threshold)
    mapping = build_column_mapping(["Product Code", "Colour"], rules)
    assert mapping.columns == {"Product Code": "sku"}
    assert apply_mapping({"Product Code": "A", "Colour": "red"}, mapping) == {
        "sku": "A",
        "characteristics": {"Colour": "red"},
    }


def test_fields_without_synonyms_match_on_their_name_and_fuzzy_off_turns_detection_off() -> None:
    assert "colour" not in SYNONYMS
    rules = MappingRules(standard_fields=["sku", "colour"])
    assert build_column_mapping(["Colour", "SKU"], rules).columns == {"Colour": "colour", "SKU": "sku"}
    off = MappingRules(standard_fields=FIELDS, fuzzy=False)
    assert build_column_mapping(["Product Code", "Unit Price"], off).columns == {}


async def test_a_supplier_csv_with_synonym_headers_is_stored_under_standard_fields() -> None:
    config = SourceConfig.model_validate(
        {
            **CONFIG.model_dump(by_alias=True),
            "map": {"standard_fields": ["sku", "name", "price", "quantity"]},
            "validate": {"fields": {"price": {"type": "number", "required": True}, "quantity": {"type": "integer"}}},
        }
    )
    app = App(config)
    csv = "Product Code,Description,Unit Price,Qty,Colour\nA,Bolt,1.50,10,red\nB,Nut,0.20,500,\n"

    out = await app.c.processor.handle(doc(csv))

    assert isinstance(out, Processed) and out.status is TaskStatus.SUCCEEDED
    assert app.records.rows["prices:A"].data == {
        "sku": "A",
        "name": "Bolt",
        "price": 1.5,
        "quantity": 10,
        "characteristics": {"Colour": "red"},
    }
    assert app.records.rows["prices:B"].data == {"sku": "B", "name": "Nut", "price": 0.2, "quantity": 500}
