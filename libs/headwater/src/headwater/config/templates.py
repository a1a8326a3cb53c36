"""Request templates: ``{item.<field>}``, ``{window.from}``, ``{window.to}``, ``{linkage.<field>}``.

``{{`` and ``}}`` are literal braces. The one tokenizer of the platform lives here: config
validation (``check_template``) and collection-model's rendering both split templates with
``tokenize``; rendering lives in collection-model and never uses ``str.format``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "ALLOWED_FORMS",
    "TemplateSyntaxError",
    "Token",
    "check_template",
    "is_known_variable",
    "template_variables",
    "tokenize",
]

ALLOWED_FORMS = "{item.<field>}, {window.from}, {window.to}, {linkage.<field>}"
_VAR = re.compile(r"(item|linkage)\.[A-Za-z_][A-Za-z0-9_]*|window\.(from|to)")


class TemplateSyntaxError(ValueError):
    """A template whose braces do not pair up (an unclosed ``{`` or a lone ``}``)."""


@dataclass(frozen=True)
class Token:
    """Literal text (escaped braces already halved), or a variable's name (stripped, unchecked)."""

    text: str
    is_variable: bool = False


def tokenize(text: str) -> list[Token]:
    """Literal text and variables, in order; adjacent literal text is one token.

    ``{{`` and ``}}`` are literal braces; ``{ name }`` is the variable ``name`` (whatever it
    says: ``is_known_variable`` judges it). Raises TemplateSyntaxError on an unclosed ``{``
    or a lone ``}``.
    """
    tokens: list[Token] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        pair = text[i : i + 2]
        if pair in ("{{", "}}"):
            literal.append(pair[0])
            i += 2
        elif text[i] == "{":
            end = text.find("}", i)
            if end < 0:
                raise TemplateSyntaxError(f"unclosed '{{' in {text!r}")
            if literal:
                tokens.append(Token("".join(literal)))
                literal = []
            tokens.append(Token(text[i + 1 : end].strip(), is_variable=True))
            i = end + 1
        elif text[i] == "}":
            raise TemplateSyntaxError(f"single '}}' in {text!r}; write '}}}}' for a literal brace")
        else:
            literal.append(text[i])
            i += 1
    if literal:
        tokens.append(Token("".join(literal)))
    return tokens


def is_known_variable(name: str) -> bool:
    """Whether ``name`` is one of the allowed forms (``ALLOWED_FORMS``)."""
    return _VAR.fullmatch(name) is not None


def template_variables(text: str) -> list[str]:
    """The variables named in ``text``, in order; raises TemplateSyntaxError on bad braces."""
    return [token.text for token in tokenize(text) if token.is_variable]


def check_template(text: str, *, has_iteration: bool, has_window: bool) -> list[str]:
    """Every problem of one template string (empty when fine).

    ``has_iteration`` / ``has_window``: whether the source has ``ingestion.iteration`` /
    ``ingestion.window``, without which ``{item.*}`` / ``{window.*}`` have no value.
    """
    try:
        names = template_variables(text)
    except TemplateSyntaxError as exc:
        return [str(exc)]
    problems: list[str] = []
    for name in dict.fromkeys(names):  # each variable once, in order
        if not is_known_variable(name):
            problems.append(f"unknown template variable {{{name}}}; allowed: {ALLOWED_FORMS}")
        elif name.startswith("item.") and not has_iteration:
            problems.append(f"template variable {{{name}}} needs an ingestion.iteration block")
        elif name.startswith("window.") and not has_window:
            problems.append(f"template variable {{{name}}} needs an ingestion.window block")
    return problems
