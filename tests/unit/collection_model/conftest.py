import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # cm_fakes beside the tests

from cm_fakes import Harness, running  # type: ignore[import-not-found]
from cm_server import FakeApi  # type: ignore[import-not-found]


@pytest.fixture
async def harness() -> AsyncIterator[Callable[..., Awaitable[Harness]]]:
    """``await harness(api, items=..., secrets=...)``: collection-model on fakes and a local
    server (``cm_fakes.running``); everything started is closed after the test."""
    async with AsyncExitStack() as stack:

        async def start(api: FakeApi | None = None, **kw: Any) -> Harness:
            return await stack.enter_async_context(running(api, **kw))

        yield start


@pytest.fixture
async def api() -> AsyncIterator[FakeApi]:
    """A started fake API without routes (tests add them)."""
    fake = FakeApi()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
