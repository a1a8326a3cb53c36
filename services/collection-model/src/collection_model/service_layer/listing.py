"""Listing the items of an iteration: one MCP ``tools/call`` with the config's (templated)
arguments, its result judged here — ``isError``, and where the items are (``items_path``).

Every failure is an ``ItemListingError`` naming the server, the tool and the reason; the
fetch then fails as a whole (unit ``*``), which the task result and ``task.failed`` report.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from collection_model.domain.errors import TemplateError
from collection_model.domain.iteration import ItemListingError, items_from_result
from collection_model.domain.templating import TemplateContext, render_body
from collection_model.service_layer.ports import ItemSource, ToolCall
from headwater.config import IterationSpec

__all__ = ["list_items", "tool_call"]

MAX_ERROR_TEXT = 300


def tool_call(iteration: IterationSpec, window: tuple[datetime, datetime] | None) -> ToolCall:
    """The call a task makes: the arguments rendered with the task's window (``{window.from}``)."""
    try:
        arguments = render_body(dict(iteration.arguments), TemplateContext(window=window))
    except TemplateError as exc:
        raise ItemListingError(iteration.source_mcp, iteration.source_tool, f"arguments: {exc}") from None
    return ToolCall(
        server=iteration.source_mcp,
        tool=iteration.source_tool,
        arguments=arguments,
        timeout_seconds=iteration.timeout_seconds,
        path=iteration.endpoint_path,
    )


async def list_items(
    source: ItemSource, iteration: IterationSpec, window: tuple[datetime, datetime] | None = None
) -> list[dict[str, Any]]:
    """The tool's items, in order. Raises ItemListingError."""
    call = tool_call(iteration, window)
    result = await source.call_tool(call)
    if result.is_error:
        said = " ".join(result.texts).strip()[:MAX_ERROR_TEXT] or "no message"
        raise ItemListingError(call.server, call.tool, f"the tool reported an error (isError): {said}")
    try:
        return items_from_result(result.structured, result.texts, iteration.items_path)
    except ValueError as exc:
        raise ItemListingError(call.server, call.tool, str(exc)) from None
