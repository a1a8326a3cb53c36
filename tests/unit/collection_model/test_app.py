"""collection-model's HTTP side on fakes: the upload route maps the service layer's errors to
status codes, the work-items subscription maps outcomes to Dapr's SUCCESS / RETRY / DROP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiohttp import web
from cm_fakes import Harness, settings  # type: ignore[import-not-found]
from cm_server import FakeApi  # type: ignore[import-not-found]

from collection_model.entrypoints.app import create_app
from headwater.config import SourceConfig
from headwater.edge.sidecar import DaprError

Start = Callable[..., Awaitable[Harness]]
AUTH = {"authorization": "Bearer test-token"}
UPLOADS = "/api/v1/sources/prices/uploads"
WORK_ITEMS = "/events/pubsub/work-items"
PRICES = SourceConfig.model_validate({"source_id": "prices", "ingestion": {"mode": "push"}})
WEATHER = SourceConfig.model_validate(
    {
        "source_id": "weather",
        "ingestion": {"schedule": "@hourly", "request": {"base_url": "http://api.example.com/obs"}},
    }
)


@dataclass
class Api:
    http: httpx.AsyncClient
    h: Harness


@pytest.fixture
async def api(harness: Start) -> AsyncIterator[Api]:
    api = FakeApi({"/obs": lambda r: web.json_response({})})
    h = await harness(api, configs=(PRICES, WEATHER), max_upload_bytes=100)
    app = create_app(settings())
    app.state.container, app.state.tokens = h.container, h.container.tokens  # what the lifespan sets
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cm") as http:
        yield Api(http, h)


async def test_an_upload_is_accepted(api: Api) -> None:
    headers = {**AUTH, "content-type": "text/csv", "x-filename": "p.csv"}
    response = await api.http.post(UPLOADS, content=b"a,b\n1,2\n", headers=headers)
    assert response.status_code == 202 and response.json()["bytes"] == 8
    assert set(response.json()) == {"source_id", "task_id", "sha256", "bytes"}
    assert [d.key for d in api.h.publisher.documents] == ["upload/p.csv"]


@pytest.mark.parametrize(
    ("path", "content_type", "body", "status", "detail"),
    [
        (UPLOADS, "text/plain", b"x", 415, "unsupported content type 'text/plain'"),
        (UPLOADS, "text/csv", b"x" * 101, 413, "upload larger than 100 bytes"),
        (UPLOADS, "text/csv", b"", 422, "the upload is empty"),
        ("/api/v1/sources/gone/uploads", "text/csv", b"x", 404, "source 'gone' not found"),
    ],
)
async def test_refusals_map_to_status_codes(
    api: Api, path: str, content_type: str, body: bytes, status: int, detail: str
) -> None:
    response = await api.http.post(path, content=body, headers={**AUTH, "content-type": content_type})
    assert response.status_code == status and response.json()["detail"].startswith(detail)
    assert api.h.publisher.documents == []


async def test_uploads_need_the_api_token(api: Api) -> None:
    response = await api.http.post(UPLOADS, content=b"a", headers={"content-type": "text/csv"})
    assert response.status_code == 401 and api.h.publisher.documents == []


def work_item(source_id: str = "weather", **fields: Any) -> dict[str, Any]:
    data = {"source_id": source_id, "config_version": 1, "task_id": f"{source_id}:t", "run_id": "r1", **fields}
    return {"id": "ev-1", "type": "com.dapr.event.sent", "data": data}


async def test_a_work_item_is_fetched_and_acknowledged(api: Api) -> None:
    response = await api.http.post(WORK_ITEMS, json=work_item())
    assert response.json() == {"status": "SUCCESS"}
    assert [d.key for d in api.h.publisher.documents] == ["page-1"] and len(api.h.publisher.results) == 1


@pytest.mark.parametrize(
    ("event", "outcome"),
    [
        ({"id": "ev-1", "data": {"source_id": "weather"}}, "DROP"),  # malformed
        (work_item("prices"), "DROP"),  # push mode: nothing to fetch
    ],
)
async def test_work_items_that_can_never_succeed_are_dead_lettered(
    api: Api, event: dict[str, Any], outcome: str
) -> None:
    assert (await api.http.post(WORK_ITEMS, json=event)).json() == {"status": outcome}


async def test_a_failed_publish_is_retried(api: Api) -> None:
    api.h.publisher.error = DaprError("sidecar unreachable", 500)
    assert (await api.http.post(WORK_ITEMS, json=work_item())).json() == {"status": "RETRY"}


async def test_a_failed_task_failed_publish_is_retried_before_the_result(api: Api) -> None:
    api.h.api.routes["/obs"] = lambda r: web.json_response({}, status=404)
    api.h.events.error = DaprError("sidecar unreachable", 500)
    assert (await api.http.post(WORK_ITEMS, json=work_item())).json() == {"status": "RETRY"}
    assert api.h.publisher.results == []  # the planner hears of the task once it was announced
