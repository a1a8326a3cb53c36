"""The CLI prints the reason of the planner's 503 (store or scheduler unavailable)."""

from __future__ import annotations

import httpx
import pytest

from headwater_ops.cli.client import ApiClient, Unreachable

REASON = {"message": "the store is unavailable (AutoReconnect: connection refused)", "reason": "store_unavailable"}


def answering(status: int, body: object) -> ApiClient:
    transport = httpx.MockTransport(lambda _request: httpx.Response(status, json=body))
    return ApiClient("http://sidecar/v1.0/invoke/planner/method", "t", transport=transport)


def test_a_503_of_the_planner_names_its_reason() -> None:
    with pytest.raises(Unreachable) as caught:
        answering(503, {"detail": REASON}).request("GET", "/api/v1/sources/x/status")

    assert "store_unavailable: the store is unavailable (AutoReconnect: connection refused)" in str(caught.value)


def test_a_503_of_the_sidecar_still_says_the_planner_is_not_reachable() -> None:
    with pytest.raises(Unreachable) as caught:
        answering(503, {"errorCode": "ERR_DIRECT_INVOKE"}).request("GET", "/api/v1/sources")

    assert "not reachable" in str(caught.value)
