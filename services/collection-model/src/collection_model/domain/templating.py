"""Safe request templates: ``{item.<f>}``, ``{window.from}``, ``{window.to}``, ``{linkage.<f>}``.

Rendering walks the text with the same tokenizer the config validation uses — never
``str.format`` (which can reach attributes) — and URL-encodes every value for the place it
lands in. The final URL must keep the scheme and host of ``base_url``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from headwater.config.templates import TemplateSyntaxError, template_variables

__all__ = ["TemplateContext", "TemplateError", "build_url", "render"]


class TemplateError(ValueError):
    """A template names an unknown value, or rendering would change scheme or host."""


class TemplateContext:
    """The values templates may use."""

    def __init__(
        self,
        item: Mapping[str, Any] | None = None,
        window: tuple[datetime, datetime] | None = None,
        linkage: Mapping[str, Any] | None = None,
    ) -> None:
        self.item = dict(item or {})
        self.window = window
        self.linkage = dict(linkage or {})

    def lookup(self, name: str) -> str:
        scope, _, field = name.partition(".")
        if scope == "window" and self.window is not None and field in ("from", "to"):
            moment = self.window[0] if field == "from" else self.window[1]
            return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        values = {"item": self.item, "linkage": self.linkage}.get(scope)
        if values is None or field not in values:
            raise TemplateError(f"template variable {{{name}}} has no value here")
        value = values[field]
        return value if isinstance(value, str) else str(value)


def render(template: str, ctx: TemplateContext, encode: bool = False) -> str:
    """Substitute variables; with ``encode`` each value is percent-encoded (a path segment)."""
    try:
        template_variables(template)  # syntax check
    except TemplateSyntaxError as exc:
        raise TemplateError(str(exc)) from None
    out: list[str] = []
    i = 0
    while i < len(template):
        if template.startswith("{{", i) or template.startswith("}}", i):
            out.append(template[i])
            i += 2
        elif template[i] == "{":
            end = template.index("}", i)
            value = ctx.lookup(template[i + 1 : end].strip())
            out.append(quote(value, safe="") if encode else value)
            i = end + 1
        else:
            out.append(template[i])
            i += 1
    return "".join(out)


def build_url(
    base_url: str,
    path: str,
    parameters: Mapping[str, str],
    ctx: TemplateContext,
    extra_params: Mapping[str, str] | None = None,
) -> str:
    """``base_url`` + rendered ``path`` + rendered, encoded query; scheme and host cannot change."""
    url = base_url.rstrip("/") + render(path, ctx, encode=True) if path else base_url
    query = {k: render(v, ctx) for k, v in parameters.items()}
    query.update(extra_params or {})
    if query:
        url += ("&" if urlsplit(url).query else "?") + urlencode(query)
    before, after = urlsplit(base_url), urlsplit(url)
    if (before.scheme, before.netloc) != (after.scheme, after.netloc) or any(c in url for c in "\r\n"):
        raise TemplateError("rendered URL changes the scheme or host of base_url")
    return url
