"""Request templates are parsed and checked when a config is loaded (rendering is collection-model's)."""

from __future__ import annotations

import pytest

from headwater.config import check_template, template_variables
from headwater.config.templates import TemplateSyntaxError


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("", []),
        ("/regions/{item.id}/forecast", ["item.id"]),
        ("{window.from}..{window.to}", ["window.from", "window.to"]),
        ("{{literal}} and {{item.id}}", []),
        ("{{{item.id}}}", ["item.id"]),
        ("{ linkage.order_id }", ["linkage.order_id"]),
    ],
)
def test_template_variables(text: str, names: list[str]) -> None:
    assert template_variables(text) == names


@pytest.mark.parametrize(("text", "message"), [("{item.id", "unclosed '{'"), ("a}b", "single '}'")])
def test_unbalanced_braces(text: str, message: str) -> None:
    with pytest.raises(TemplateSyntaxError, match=message):
        template_variables(text)


def test_every_allowed_form_passes_when_its_block_exists() -> None:
    text = "{item.code}/{window.from}/{window.to}/{linkage.id}"
    assert check_template(text, has_iteration=True, has_window=True) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "{region.id}",
            "unknown template variable {region.id}; allowed: {item.<field>}, {window.from}, {window.to}, "
            "{linkage.<field>}",
        ),
        ("{window.start}", "unknown template variable {window.start}"),
        ("{item}", "unknown template variable {item}"),
        ("{item.__class__.x}", "unknown template variable {item.__class__.x}"),
        ("{}", "unknown template variable {}"),
        ("{item.id}", "template variable {item.id} needs an ingestion.iteration block"),
        ("{window.to}", "template variable {window.to} needs an ingestion.window block"),
    ],
)
def test_template_problems_name_the_variable(text: str, problem: str) -> None:
    (found,) = check_template(text, has_iteration=False, has_window=False)
    assert found.startswith(problem)


def test_each_variable_is_reported_once() -> None:
    assert len(check_template("{item.a}/{item.a}", has_iteration=False, has_window=True)) == 1
