"""Reading an iteration's items from an MCP tool result (``domain.iteration.items_from_result``)
and listing them (``service_layer.listing``): isError, templated arguments, clear errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cm_fakes import FakeItemSource  # type: ignore[import-not-found]

from collection_model.domain.iteration import ItemListingError, items_from_result
from collection_model.service_layer.listing import list_items, tool_call
from collection_model.service_layer.ports import ToolResult
from headwater.config import IterationSpec

REGIONS = [{"id": "r01", "latitude": 52.52}, {"id": "r02", "latitude": 48.14}]


@pytest.mark.parametrize(
    ("structured", "texts"),
    [
        ({"result": REGIONS}, ()),  # what the official SDKs send for a returned list
        ({"items": REGIONS}, ()),
        (REGIONS, ()),
        (None, tuple(json.dumps(r) for r in REGIONS)),  # one JSON text block per item
        (None, (json.dumps(REGIONS),)),
        (None, (json.dumps({"items": REGIONS}),)),
    ],
    ids=["result", "items", "bare-list", "text-per-item", "text-list", "text-items"],
)
def test_the_default_finds_the_items_in_every_common_shape(structured: Any, texts: tuple[str, ...]) -> None:
    assert items_from_result(structured, texts) == REGIONS


def test_a_single_item_list_sent_as_one_text_block_is_one_item() -> None:
    assert items_from_result(None, (json.dumps(REGIONS[0]),)) == [REGIONS[0]]


def test_no_content_is_no_items() -> None:
    assert items_from_result(None, ()) == []
    assert items_from_result({"result": []}, ()) == []


def test_items_path_selects_anywhere_in_the_structured_content() -> None:
    structured = {"data": {"regions": REGIONS, "total": 2}}
    assert items_from_result(structured, (), "data.regions") == REGIONS
    assert items_from_result(structured, (), "data.regions[?latitude > `50`]") == [REGIONS[0]]


def test_items_path_applies_to_json_text_without_structured_content() -> None:
    assert items_from_result(None, (json.dumps({"page": {"rows": REGIONS}}),), "page.rows") == REGIONS


@pytest.mark.parametrize(
    ("structured", "texts", "path", "message"),
    [
        ({"data": {"regions": REGIONS}}, (), "", "an object with keys ['data']; set items_path"),
        ({"data": 3}, (), "data", "items_path 'data' selects a int, not a list of items"),
        ({"result": ["a", "b"]}, (), "", "'result': item 0 is a str, not an object"),
        (None, ("not json",), "", "text content 0 is not JSON"),
        ({"x": 1}, (), "missing", "selects nothing"),
    ],
)
def test_a_result_without_items_says_what_it_found(
    structured: Any, texts: tuple[str, ...], path: str, message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        items_from_result(structured, texts, path)
    assert message in str(caught.value)


def iteration(**extra: Any) -> IterationSpec:
    return IterationSpec.model_validate(
        {"foreach": "region", "source_mcp": "plantation", "source_tool": "regions"} | extra
    )


async def test_listing_calls_the_tool_with_the_config_and_reads_the_sdk_shape() -> None:
    source = FakeItemSource(REGIONS)
    spec = iteration(arguments={"limit": 2}, timeout_seconds=7, endpoint_path="/rpc")
    assert await list_items(source, spec) == REGIONS
    [call] = source.calls
    assert (call.server, call.tool, call.arguments, call.timeout_seconds, call.path) == (
        "plantation",
        "regions",
        {"limit": 2},
        7,
        "/rpc",
    )


async def test_tool_arguments_are_templated_with_the_tasks_window() -> None:
    window = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))
    spec = iteration(arguments={"since": "{window.from}", "filter": {"until": ["{window.to}"]}, "n": 3})
    call = tool_call(spec, window)
    assert call.arguments == {"since": "2026-01-01T00:00:00Z", "filter": {"until": ["2026-01-02T00:00:00Z"]}, "n": 3}


async def test_a_window_argument_without_a_window_fails_naming_server_and_tool() -> None:
    with pytest.raises(ItemListingError, match=r"MCP server 'plantation', tool 'regions': arguments: .*no window"):
        tool_call(iteration(arguments={"since": "{window.from}"}), None)


async def test_is_error_fails_the_listing_with_what_the_tool_said() -> None:
    source = FakeItemSource()
    source.result = ToolResult(texts=("Error executing tool regions: registry closed",), is_error=True)
    with pytest.raises(ItemListingError) as caught:
        await list_items(source, iteration())
    assert str(caught.value) == (
        "MCP server 'plantation', tool 'regions': the tool reported an error (isError): "
        "Error executing tool regions: registry closed"
    )


async def test_a_result_without_items_names_server_tool_and_reason() -> None:
    source = FakeItemSource()
    source.result = ToolResult(structured={"regions": REGIONS})
    with pytest.raises(ItemListingError, match=r"MCP server 'plantation', tool 'regions': .*set items_path"):
        await list_items(source, iteration())
    assert await list_items(source, iteration(items_path="regions")) == REGIONS


def test_the_config_refuses_item_variables_and_bad_paths_in_the_iteration() -> None:
    with pytest.raises(ValueError, match="items_path 'a\\[' is not a valid JMESPath"):
        iteration(items_path="a[")
    with pytest.raises(ValueError, match="timeout_seconds"):
        iteration(timeout_seconds=0)
    spec = iteration(arguments={"id": "{item.id}", "since": "{window.from}"})
    problems = spec.template_issues(has_window=False)
    assert [(path, text.split(" ", 3)[-1]) for path, text in problems] == [
        (("arguments", "id"), "has no value in tool arguments"),
        (("arguments", "since"), "needs an ingestion.window block"),
    ]
