"""The real runtime for fault-injection tests, and the faults to inject into it.

One stack per session (the same `Stack` as `make up` and the integration tests), in the
instance `faults` with every port shifted by 600 (`HEADWATER_TEST_INSTANCE` /
`HEADWATER_TEST_PORT_OFFSET` choose another), so it runs beside a `make up` stack and the
integration tests. Its sqlite name resolution is configured with short intervals (rows expire
after 2 s; a cleanup, if the committed configuration ever turns it back on, every 10 s instead
of every hour), so a soak test sees in seconds what a stack sees after hours.

`faults` (a `fault_support.Faults`) kills or stops one part and starts it again, touching only
processes of this instance: an app or its sidecar (`kill -9`; the supervisor restarts it),
Redis, PostgreSQL (behind FerretDB) and the scheduler (stopped and started again by the test).
`cli`, `until` and `FakeApi` come from `tests/integration/integration_support.py`; test modules
import them and `Faults` by module name (both folders are put on `sys.path` here).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from pymongo import AsyncMongoClient

from headwater_ops.runtime.binaries import RuntimeNotFoundError
from headwater_ops.runtime.postgres import PostgresError
from headwater_ops.runtime.procs import PortInUseError, StartError
from headwater_ops.runtime.settings import RuntimeSettings, project_dir
from headwater_ops.runtime.stack import Stack, StackInfo

sys.path.insert(0, str(Path(__file__).parents[1] / "integration"))  # integration_support: cli, until, FakeApi
sys.path.insert(0, str(Path(__file__).parent))  # fault_support: Faults
from fault_support import PUBSUB_OVERRIDES, Faults

TEST_SECRETS = {"smoke": {"api_key": "smoke-secret-value-42"}, "e2e": {"api_key": "e2e-Key-7f3a9c21d4"}}
NAME_RESOLUTION_EXPIRY = "2s"  # a registration row not renewed for 2 s is not resolved any more
NAME_RESOLUTION_CLEANUP = "10s"  # the committed configuration's cleanup, if it has one, compressed


def _name_resolution_overrides() -> dict[str, str]:
    config = yaml.safe_load((project_dir() / "deploy/dapr/config.yaml").read_text())
    committed = config["spec"]["nameResolution"].get("configuration", {})
    overrides = {"updateInterval": NAME_RESOLUTION_EXPIRY}
    if str(committed.get("cleanupInterval", "1h")) not in ("0", "0s"):
        overrides["cleanupInterval"] = NAME_RESOLUTION_CLEANUP
    return overrides


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    settings = RuntimeSettings(
        instance=os.environ.get("HEADWATER_TEST_INSTANCE", "faults"),
        port_offset=int(os.environ.get("HEADWATER_TEST_PORT_OFFSET", "600")),
        persistent=False,
        start_timeout_seconds=120,
        name_resolution=_name_resolution_overrides(),
        pubsub=PUBSUB_OVERRIDES,
    )
    stack = Stack(settings, report=lambda msg: print(f"[runtime] {msg}"))
    stack.down(quiet=True)
    shutil.rmtree(settings.instance_dir, ignore_errors=True)
    stack.write_secrets(TEST_SECRETS)
    try:
        stack.up()
    except (RuntimeNotFoundError, PostgresError, StartError, PortInUseError, ValueError) as exc:
        stack.down(quiet=True)
        pytest.fail(f"the real runtime could not start: {exc}\nRun `make setup` first (see README).", pytrace=False)
    yield stack
    stack.down(quiet=True)


@pytest.fixture(scope="session")
def runtime(stack: Stack) -> StackInfo:
    return stack.info()


@pytest.fixture(scope="session")
def faults(stack: Stack) -> Faults:
    return Faults(stack)


@pytest.fixture
async def http(runtime: StackInfo) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sends the instance's ``DAPR_API_TOKEN`` (every sidecar requires it; an app
    port refuses it: reach apps through ``AppEndpoint.invoke_url``)."""
    async with httpx.AsyncClient(timeout=30, headers=runtime.dapr_headers()) as client:
        yield client


@pytest.fixture
async def mongo(runtime: StackInfo) -> AsyncIterator[AsyncMongoClient[Any]]:
    client: AsyncMongoClient[Any] = AsyncMongoClient(runtime.mongodb_uri, serverSelectionTimeoutMS=10_000)
    yield client
    await client.close()
