"""The real runtime for integration tests, started once per test session.

`Stack` (the same code as `make up`) starts the Dapr scheduler, Redis, PostgreSQL +
DocumentDB, FerretDB and `dapr run -f` on a rendered copy of dapr.yaml, in the
instance `test` with every port shifted by 1000, so a developer's `make up` stack can
keep running (`HEADWATER_TEST_INSTANCE` / `HEADWATER_TEST_PORT_OFFSET` choose another
instance, so two checkouts can run their integration tests side by side). A missing part
is a failure that says how to get it, never a skip.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from pymongo import AsyncMongoClient

from headwater_ops.runtime.binaries import RuntimeNotFoundError
from headwater_ops.runtime.postgres import PostgresError
from headwater_ops.runtime.procs import PortInUseError, StartError
from headwater_ops.runtime.settings import RuntimeSettings
from headwater_ops.runtime.stack import Stack, StackInfo

sys.path.insert(0, str(Path(__file__).parent))  # integration_support beside the tests

from otlp_receiver import OtlpReceiver  # type: ignore[import-not-found]

# test_secret_canary: a new key per session (with characters a URL encodes), in a secret collection-model
# may already read, so the security probes' scopes stay as they are; the test reads it back from secrets.json
SECRET_CANARY = f"cnry-{uuid.uuid4().hex[:16]}+{uuid.uuid4().hex[:16]}/="
TEST_SECRETS = {
    "smoke": {"api_key": "smoke-secret-value-42"},
    "e2e": {"api_key": "e2e-Key-7f3a9c21d4", "canary_key": SECRET_CANARY},
    "headwater-canary": {"value": "no-app-may-read-this-3c1e"},  # test_security_probes: readable by none
}


@pytest.fixture(scope="session")
def otlp() -> Iterator[OtlpReceiver]:
    """Where the session stack's services export their spans (test_observability reads them)."""
    with OtlpReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def stack(otlp: OtlpReceiver) -> Iterator[Stack]:
    settings = RuntimeSettings(
        instance=os.environ.get("HEADWATER_TEST_INSTANCE", "test"),
        port_offset=int(os.environ.get("HEADWATER_TEST_PORT_OFFSET", "1000")),
        persistent=False,
        start_timeout_seconds=120,
    )
    stack = Stack(settings, report=lambda msg: print(f"[runtime] {msg}"))
    stack.down(quiet=True)
    shutil.rmtree(settings.instance_dir, ignore_errors=True)
    stack.write_secrets(TEST_SECRETS)  # local.file reads the file once, when daprd starts
    try:
        stack.up(extra_env={"OTEL_EXPORTER_OTLP_ENDPOINT": otlp.url, "OTEL_BSP_SCHEDULE_DELAY": "500"})
    except (RuntimeNotFoundError, PostgresError, StartError, PortInUseError) as exc:
        stack.down(quiet=True)
        pytest.fail(f"the real runtime could not start: {exc}\nRun `make setup` first (see README).", pytrace=False)
    yield stack
    stack.down(quiet=True)


@pytest.fixture(scope="session")
def runtime(stack: Stack) -> StackInfo:
    return stack.info()


@pytest.fixture
async def http(runtime: StackInfo) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sends the instance's ``DAPR_API_TOKEN`` (every sidecar requires it; an app
    port refuses it: reach apps through ``AppEndpoint.invoke_url``)."""
    async with httpx.AsyncClient(timeout=30, headers=runtime.dapr_headers()) as client:
        yield client


@pytest.fixture
async def mongo(runtime: StackInfo) -> AsyncIterator[AsyncMongoClient]:
    client: AsyncMongoClient = AsyncMongoClient(runtime.mongodb_uri, serverSelectionTimeoutMS=10_000)
    yield client
    await client.close()
