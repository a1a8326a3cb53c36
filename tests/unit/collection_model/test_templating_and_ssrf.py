from __future__ import annotations

from datetime import UTC, datetime

import pytest

from collection_model.domain.ssrf import BlockedAddressError, check_address
from collection_model.domain.templating import TemplateContext, TemplateError, build_url, render

BASE = "https://api.example.com/v1"


def test_values_are_url_encoded_in_path_and_query() -> None:
    ctx = TemplateContext(item={"id": "a b/c?d#e", "q": "x&y=z"})
    url = build_url(BASE, "/items/{item.id}", {"q": "{item.q}"}, ctx)
    assert url == "https://api.example.com/v1/items/a%20b%2Fc%3Fd%23e?q=x%26y%3Dz"


@pytest.mark.parametrize("evil", ["@evil.com", "/../../admin", "%2F%2Fevil.com", "x\r\nHost: evil", "..", "#frag"])
def test_injection_attempts_cannot_change_host_or_escape_the_segment(evil: str) -> None:
    url = build_url(BASE, "/items/{item.id}", {}, TemplateContext(item={"id": evil}))
    assert url.startswith("https://api.example.com/v1/items/")
    assert "/" not in url.removeprefix("https://api.example.com/v1/items/")


def test_a_template_cannot_change_the_host() -> None:
    with pytest.raises(TemplateError, match="scheme or host"):
        build_url("https://api.example.com", "{item.x}", {}, TemplateContext(item={"x": "@evil.com"}))


def test_no_str_format_attribute_access() -> None:
    with pytest.raises(TemplateError):
        render("{item.__class__}", TemplateContext(item={}))
    assert render("{{literal}} {item.a}", TemplateContext(item={"a": 1})) == "{literal} 1"


def test_window_values_are_iso_utc() -> None:
    ctx = TemplateContext(window=(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 1, tzinfo=UTC)))
    assert build_url(BASE, "", {"from": "{window.from}"}, ctx) == f"{BASE}?from=2026-01-01T00%3A00%3A00Z"


def test_unknown_variable_names_it() -> None:
    with pytest.raises(TemplateError, match=r"\{item.missing\}"):
        render("{item.missing}", TemplateContext(item={}))


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "64:ff9b::a00:1",
        "2002:7f00:1::",
        "fd00:ec2::254",
        "224.0.0.1",
    ],
)
def test_non_public_addresses_are_refused(ip: str) -> None:
    with pytest.raises(BlockedAddressError):
        check_address("api.example.com", [ip])


def test_public_addresses_pass_and_allowlist_admits() -> None:
    check_address("api.example.com", ["93.184.216.34", "2606:2800:220:1::1"])
    check_address("localhost", ["127.0.0.1"], ["127.0.0.1"])
    check_address("db.internal", ["10.1.2.3"], ["10.0.0.0/8"])
    check_address("db.internal", ["10.1.2.3"], ["db.internal"])
    with pytest.raises(BlockedAddressError, match="metadata"):
        check_address("metadata.google.internal", ["8.8.8.8"])
    with pytest.raises(BlockedAddressError):
        check_address("mixed.example.com", ["93.184.216.34", "10.0.0.1"])  # every address must pass
