"""Request templates: ``{item.<field>}``, ``{window.from}``, ``{window.to}``, ``{linkage.<field>}``.

``{{`` and ``}}`` are literal braces. Parsing lives here (validation of configs); rendering
lives in collection-model and never uses ``str.format``.
"""

from __future__ import annotations

import re

__all__ = ["ALLOWED_FORMS", "TemplateSyntaxError", "check_template", "template_variables"]

ALLOWED_FORMS = "{item.<field>}, {window.from}, {window.to}, {linkage.<field>}"
_VAR = re.compile(r"(item|linkage)\.[A-Za-z_][A-Za-z0-9_]*|window\.(from|to)")


class TemplateSyntaxError(ValueError):
    """A template whose braces do not pair up (an unclosed ``{`` or a lone ``}``)."""


def template_variables(text: str) -> list[str]:
    """The variables named in ``text``, in order; raises TemplateSyntaxError on bad braces."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "{":
            if text.startswith("{{", i):
                i += 2
                continue
            end = text.find("}", i)
            if end < 0:
                raise TemplateSyntaxError(f"unclosed '{{' in {text!r}")
            out.append(text[i + 1 : end].strip())
            i = end + 1
        elif ch == "}":
            if text.startswith("}}", i):
                i += 2
                continue
            raise TemplateSyntaxError(f"single '}}' in {text!r}; write '}}}}' for a literal brace")
        else:
            i += 1
    return out


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
        if not _VAR.fullmatch(name):
            problems.append(f"unknown template variable {{{name}}}; allowed: {ALLOWED_FORMS}")
        elif name.startswith("item.") and not has_iteration:
            problems.append(f"template variable {{{name}}} needs an ingestion.iteration block")
        elif name.startswith("window.") and not has_window:
            problems.append(f"template variable {{{name}}} needs an ingestion.window block")
    return problems
