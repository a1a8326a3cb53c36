"""Request templates are parsed and checked when a config is loaded (rendering is collection-model's)."""

from __future__ import annotations

import pytest

from headwater.config import check_template, template_variables
from headwater.config.templates import TemplateSyntaxError, Token, is_known_variable, tokenize


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


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{item.id", "unclosed '{'"),
        ("a}b", "single '}'"),
        ("}", "single '}'"),
        ("}}}", "single '}'"),  # a literal brace, then a lone one
        ("{{{", "unclosed '{'"),  # a literal brace, then an unclosed one
        ("{item.id}}", "single '}'"),
        ("x{", "unclosed '{'"),
    ],
)
def test_unbalanced_braces(text: str, message: str) -> None:
    with pytest.raises(TemplateSyntaxError, match=message):
        template_variables(text)
    with pytest.raises(TemplateSyntaxError, match=message):
        tokenize(text)


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("", []),
        ("plain", [Token("plain")]),
        (
            "a{{b}}{item.id}-{ window.from }",
            [Token("a{b}"), Token("item.id", True), Token("-"), Token("window.from", True)],
        ),
        ("{{{item.id}}}", [Token("{"), Token("item.id", True), Token("}")]),
        ("{{}}", [Token("{}")]),  # escaped braces stay literal, even when they would enclose a name
        ("{{item.id}}", [Token("{item.id}")]),
        ("{item.a}{item.b}", [Token("item.a", True), Token("item.b", True)]),  # adjacent variables
        ("{}", [Token("", True)]),  # an empty name is a variable (and an unknown one)
        ("{a{b}", [Token("a{b", True)]),  # a name ends at the first '}'
        ("{\titem.id\n}", [Token("item.id", True)]),  # surrounding whitespace is not part of the name
        ("}}x{{", [Token("}x{")]),
    ],
)
def test_tokenize_edge_cases(text: str, tokens: list[Token]) -> None:
    assert tokenize(text) == tokens
    assert template_variables(text) == [t.text for t in tokens if t.is_variable]


@pytest.mark.parametrize(
    ("name", "known"),
    [
        ("item.id", True),
        ("item._x9", True),
        ("linkage.order_id", True),
        ("window.from", True),
        ("window.to", True),
        ("item", False),
        ("item.", False),
        ("item.9x", False),
        ("item.a.b", False),
        ("item.__class__.x", False),
        ("window.start", False),
        ("Item.id", False),
        ("", False),
        ("item.id ", False),  # names are stripped by the tokenizer, not here
    ],
)
def test_known_variables(name: str, known: bool) -> None:
    assert is_known_variable(name) is known


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
