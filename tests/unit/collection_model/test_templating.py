from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest

from collection_model.domain import templating
from collection_model.domain.templating import (
    Place,
    TemplateContext,
    TemplateError,
    Token,
    build_url,
    check_same_origin,
    render,
    render_body,
    tokenize,
    with_params,
)
from headwater.config.templates import TemplateSyntaxError, template_variables
from headwater.config.templates import Token as SharedToken

BASE = "https://api.example.com/v1"
PREFIX = "https://api.example.com/v1/items/"


def test_tokenizer_splits_literals_variables_and_escaped_braces() -> None:
    assert tokenize("a{{b}}{item.id}-{ window.from }") == [
        Token("a{b}"),
        Token("item.id", is_variable=True),
        Token("-"),
        Token("window.from", is_variable=True),
    ]


@pytest.mark.parametrize(
    "template",
    ["", "x", "{{x}}", "{{{item.id}}}", "{ item.id }/{window.to}", "{item.id", "a}b", "}}}", "{{{", "{item.x}}"],
)
def test_rendering_and_config_validation_tokenize_alike(template: str) -> None:
    """One tokenizer: what the config check accepts, rendering splits the same way."""
    try:
        names = template_variables(template)
    except TemplateSyntaxError as exc:
        with pytest.raises(TemplateError, match=re.escape(str(exc))):  # the same message
            tokenize(template)
        return
    assert [t.text for t in tokenize(template) if t.is_variable] == names
    assert templating.Token is SharedToken


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{item.__class__.__init__}", r"unknown template variable \{item.__class__.__init__\}"),
        ("{0}", r"unknown template variable \{0\}"),
        ("{item}", r"unknown template variable \{item\}"),
        ("{item.a!r}", "unknown template variable"),
        ("{window.start}", r"\{window.start\}"),
        ("{secrets.key}", r"\{secrets.key\}"),
        ("{item.a", "unclosed"),
        ("a}b", "single '}'"),
    ],
)
def test_anything_but_the_four_forms_is_refused(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        render(template, TemplateContext(item={"a": 1}))


def test_unknown_or_missing_variable_is_named() -> None:
    with pytest.raises(TemplateError, match=r"\{item.missing\}"):
        render("{item.missing}", TemplateContext(item={"id": 1}))
    with pytest.raises(TemplateError, match=r"\{window.from\}.*no window"):
        render("{window.from}", TemplateContext())
    with pytest.raises(TemplateError, match=r"\{item.tags\} is list"):
        render("{item.tags}", TemplateContext(item={"tags": ["a"]}))
    with pytest.raises(TemplateError, match=r"\{item.x\} is null"):
        render("{item.x}", TemplateContext(item={"x": None}))


def test_scalars_and_literal_braces() -> None:
    ctx = TemplateContext(item={"n": 3, "ok": True, "f": 1.5}, linkage={"region": "north", "page": 2})
    assert render("{{x}} {item.n} {item.ok} {item.f}", ctx) == "{x} 3 true 1.5"
    assert render("{linkage.region}/{linkage.page}", ctx) == "north/2"


def test_window_values_are_iso_8601_utc_with_z() -> None:
    berlin = timezone(timedelta(hours=1))
    ctx = TemplateContext(window=(datetime(2026, 1, 1, 1, 0, tzinfo=berlin), datetime(2026, 1, 1, 1, tzinfo=UTC)))
    assert render("{window.from}/{window.to}", ctx) == "2026-01-01T00:00:00Z/2026-01-01T01:00:00Z"
    url = build_url(BASE, "", {"from": "{window.from}"}, ctx)
    assert url == f"{BASE}?from=2026-01-01T00%3A00%3A00Z"


def test_values_are_url_encoded_in_path_and_query() -> None:
    ctx = TemplateContext(item={"id": "a b/c?d#e", "q": "x&y=z+1"})
    url = build_url(BASE, "/items/{item.id}", {"q": "{item.q}", "fixed": "1"}, ctx)
    assert url == f"{PREFIX}a%20b%2Fc%3Fd%23e?q=x%26y%3Dz%2B1&fixed=1"


def test_base_url_path_templates_existing_query_and_extra_params() -> None:
    ctx = TemplateContext(item={"id": "x/y"})
    url = build_url("https://api.example.com/r/{item.id}/data?format=json", "", {"a": "1"}, ctx, {"page": "2"})
    assert url == "https://api.example.com/r/x%2Fy/data?format=json&a=1&page=2"
    assert build_url(BASE, "items", {}, ctx) == f"{BASE}/items"
    assert build_url(BASE + "/", "/items", {}, ctx) == f"{BASE}/items"
    assert build_url(BASE, "", {"page": "1"}, ctx, {"page": "3"}) == f"{BASE}?page=3"  # pagination wins


@pytest.mark.parametrize(
    "evil",
    [
        "@evil.com",
        "evil.com/",
        "/../../admin",
        "..",
        ".",
        "%2F%2Fevil.com",
        "%2e%2e",
        "?admin=1",
        "#frag",
        "x\r\nHost: evil.com",
        "x\nSet-Cookie: a",
        "\\\\evil.com",
        "https://evil.com",
        "//evil.com",
        ":8080",
    ],
)
def test_injection_in_a_path_value_stays_inside_one_segment(evil: str) -> None:
    for path in ("/items/{item.id}", "/items/{item.id}/detail"):
        try:
            url = build_url(BASE, path, {"q": "{item.id}"}, TemplateContext(item={"id": evil}))
        except TemplateError:
            continue  # refusing is as good as encoding
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("https", "api.example.com")
        assert url.startswith(PREFIX)
        segment = url.removeprefix(PREFIX).split("?")[0].split("/")[0]
        assert segment not in (".", "..") and not any(c in url for c in "\r\n #@\\")
        assert parts.fragment == ""


@pytest.mark.parametrize("evil", ["..", "."])
def test_a_value_that_would_be_a_dot_segment_is_refused(evil: str) -> None:
    with pytest.raises(TemplateError, match="path segment"):
        build_url(BASE, "/items/{item.id}", {}, TemplateContext(item={"id": evil}))


@pytest.mark.parametrize(
    ("base", "path"),
    [
        ("https://api.example.com", "{item.x}"),  # "api.example.com" + "@evil.com"?
        ("https://api.example.com:443", "{item.x}"),
    ],
)
def test_a_template_cannot_change_the_host(base: str, path: str) -> None:
    url = build_url(base, path, {}, TemplateContext(item={"x": "@evil.com"}))
    assert urlsplit(url).hostname == "api.example.com"  # '@' is encoded, so it stays in the path


@pytest.mark.parametrize(
    "after",
    [
        "https://evil.com/v1",
        "http://api.example.com/v1",
        "https://api.example.com:8443/v1",
        "https://user@api.example.com/v1",
        "https://api.example.com.evil.com/v1",
        "https://api.example.com/v1#x",
        "https://api.example.com/v1/a b",
        "https://api.example.com/v1/%2e%2E/x",
    ],
)
def test_the_rendered_url_is_checked_against_base_url(after: str) -> None:
    with pytest.raises(TemplateError):
        check_same_origin(BASE, after)
    check_same_origin(BASE, "https://api.example.com/other?x=1")


def test_a_literal_path_is_joined_below_the_host() -> None:
    assert build_url("https://api.example.com", "@evil.com", {}, TemplateContext()) == (
        "https://api.example.com/@evil.com"
    )
    with pytest.raises(TemplateError, match="whitespace"):
        build_url("https://api.example.com", "/a b", {}, TemplateContext())


def test_headers_refuse_line_breaks_and_bodies_render_leaves() -> None:
    ctx = TemplateContext(item={"id": "n1", "bad": "x\r\nX-Evil: 1"})
    assert render("id={item.id}", ctx, Place.HEADER) == "id=n1"
    with pytest.raises(TemplateError, match="line break"):
        render("{item.bad}", ctx, Place.HEADER)
    body = {"q": "{item.id}", "list": ["{item.id}", 3, None], "n": 1}
    assert render_body(body, ctx) == {"q": "n1", "list": ["n1", 3, None], "n": 1}


def test_with_params_sets_credentials_on_a_next_url() -> None:
    assert with_params("https://h.example.com/x?page=2&key=old", {"key": "a/b"}) == (
        "https://h.example.com/x?page=2&key=a%2Fb"
    )
    assert with_params("https://h.example.com/x", {}) == "https://h.example.com/x"
