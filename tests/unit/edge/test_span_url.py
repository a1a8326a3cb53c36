"""A client span's ``http.url`` never carries a registered secret (an API key in the query string,
however the URL encodes it): ``headwater.edge.tracing.span_url``, the aiohttp instrumentation's
``url_filter``. Found by tests/integration/test_secret_canary.py."""

from __future__ import annotations

import uuid
from urllib.parse import quote, quote_plus

import pytest
from yarl import URL

from headwater.edge.logging import secrets
from headwater.edge.tracing import span_url


@pytest.fixture
def key() -> str:
    value = f"k-{uuid.uuid4().hex[:12]}+{uuid.uuid4().hex[:12]}/="  # characters a URL encodes
    secrets.register(value)
    return value


@pytest.mark.parametrize("encode", [lambda v: v, quote, lambda v: quote(v, safe=""), quote_plus])
def test_a_key_in_the_query_is_masked_in_any_encoding(key: str, encode: object) -> None:
    for url in (
        URL(f"https://api.example.com/v1/items?page=2&api_key={encode(key)}", encoded=True),  # type: ignore[operator]
        URL("https://api.example.com/v1/items").with_query({"page": "2", "api_key": key}),
    ):
        shown = span_url(url)
        assert key.split("+")[0] not in shown and key.split("+")[1][:12] not in shown, shown
        assert shown.startswith("https://api.example.com/v1/items?page=2&api_key="), shown


def test_a_url_without_secrets_is_unchanged() -> None:
    url = URL("https://api.example.com/v1/items?from=2026-01-01T00:00:00Z&page=1")
    assert span_url(url) == str(url)
    assert span_url(URL("https://api.example.com/v1/items")) == "https://api.example.com/v1/items"
