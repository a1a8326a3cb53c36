"""Smoke tests of the real runtime: pub/sub with retries and dead letters, Jobs,
secrets, service invocation and the MongoDB-compatible database."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient, UpdateOne
from pymongo.errors import DuplicateKeyError

from headwater.contracts.topics import PROBES, PUBSUB, SECRET_STORE, dead_letter
from headwater_ops.runtime.stack import StackInfo

pytestmark = pytest.mark.integration


async def _deliveries(http: httpx.AsyncClient, url: str, until: int, timeout: float = 20) -> list[dict[str, Any]]:
    deadline = asyncio.get_running_loop().time() + timeout
    seen: list[dict[str, Any]] = []
    while asyncio.get_running_loop().time() < deadline:
        seen = (await http.get(url)).json()["deliveries"]
        if len(seen) >= until:
            return seen
        await asyncio.sleep(0.25)
    return seen


async def _publish(http: httpx.AsyncClient, runtime: StackInfo, data: dict[str, Any]) -> None:
    planner = runtime.apps["planner"]
    response = await http.post(f"{planner.dapr_url}/v1.0/publish/{PUBSUB}/{PROBES}", json=data)
    assert response.status_code == 204, response.text


async def test_message_crosses_redis_and_is_redelivered_after_retry(
    runtime: StackInfo, http: httpx.AsyncClient
) -> None:
    probe = f"retry-once-{uuid.uuid4().hex[:8]}"
    await _publish(http, runtime, {"probe_id": probe, "fail_times": 1})

    seen = await _deliveries(http, f"{runtime.apps['worker'].invoke_url}/probes/{probe}", until=2)

    assert [d["channel"] for d in seen] == [PROBES, PROBES]
    assert all(d["data"]["probe_id"] == probe for d in seen)
    await asyncio.sleep(1.5)  # a third delivery would mean the SUCCESS was not taken
    assert len((await http.get(f"{runtime.apps['worker'].invoke_url}/probes/{probe}")).json()["deliveries"]) == 2


async def test_message_that_keeps_failing_ends_on_the_dead_letter_topic(
    runtime: StackInfo, http: httpx.AsyncClient
) -> None:
    probe = f"always-fails-{uuid.uuid4().hex[:8]}"
    await _publish(http, runtime, {"probe_id": probe, "fail_times": 1000})

    seen = await _deliveries(http, f"{runtime.apps['worker'].invoke_url}/probes/{probe}", until=5, timeout=60)

    channels = [d["channel"] for d in seen]
    assert channels == [PROBES] * 4 + [dead_letter(PROBES)]  # 1 delivery + 3 inbound retries, then DLQ
    # the price-list schedule: retries about 1 s, 5 s and 25 s after each failure
    times = [d["at"] for d in seen[:4]]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    for gap, wanted in zip(gaps, (1.0, 5.0, 25.0), strict=True):
        assert wanted - 0.3 <= gap <= wanted + 3.0, f"retry gaps {gaps}, wanted about 1 s, 5 s, 25 s"


async def test_job_scheduled_through_sidecar_calls_back_the_planner(
    runtime: StackInfo, http: httpx.AsyncClient
) -> None:
    name = f"probe-{uuid.uuid4().hex[:8]}"
    planner = runtime.apps["planner"]
    response = await http.post(
        f"{planner.dapr_url}/v1.0/jobs/{name}", json={"dueTime": "1s", "data": {"probe": name, "n": 7}}
    )
    assert response.status_code == 204, response.text

    seen = await _deliveries(http, f"{planner.invoke_url}/probes/{name}", until=1)

    assert len(seen) == 1
    assert seen[0]["channel"] == "job"
    assert json.loads(seen[0]["data"]) == {"probe": name, "n": 7}


async def test_secret_is_read_through_a_sidecar(runtime: StackInfo, http: httpx.AsyncClient) -> None:
    sidecar = runtime.apps["collection-model"].dapr_url
    response = await http.get(f"{sidecar}/v1.0/secrets/{SECRET_STORE}/smoke")  # the secret `smoke`, its keys
    assert response.status_code == 200, response.text
    assert response.json() == {"api_key": "smoke-secret-value-42"}

    missing = await http.get(f"{sidecar}/v1.0/secrets/{SECRET_STORE}/no-such-key")
    assert missing.status_code >= 400


async def test_service_invocation_from_collection_model_to_planner(runtime: StackInfo, http: httpx.AsyncClient) -> None:
    sidecar = runtime.apps["collection-model"].dapr_url
    response = await http.get(f"{sidecar}/v1.0/invoke/planner/method/healthz")
    assert response.status_code == 200
    assert response.json()["service"] == "planner"


async def test_mongodb_insert_duplicate_and_bulk_upserts(runtime: StackInfo, mongo: AsyncMongoClient) -> None:
    coll = mongo[runtime.mongodb_database][f"smoke_{uuid.uuid4().hex[:8]}"]
    await coll.insert_one({"_id": "a", "v": 1})
    with pytest.raises(DuplicateKeyError) as err:
        await coll.insert_one({"_id": "a", "v": 2})
    assert err.value.code == 11000

    ops = [UpdateOne({"_id": f"k{i}"}, {"$set": {"v": i}}, upsert=True) for i in range(1000)]
    result = await coll.bulk_write(ops, ordered=False)

    assert result.upserted_count == 1000
    assert await coll.count_documents({}) == 1001
    assert (await coll.find_one({"_id": "k999"}))["v"] == 999
    await coll.drop()
