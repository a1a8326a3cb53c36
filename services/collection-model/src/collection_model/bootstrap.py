"""collection-model's composition root: the only place concrete adapters are chosen.

``connect(settings)`` opens the sidecar and database clients and the aiohttp session, builds
the Dapr, MongoDB and HTTP adapters and hands them to ``build``; the app's lifespan is just
``async with connect(settings) as container``. ``build(adapters, settings)`` wires the
service layer and does no I/O; unit tests call it with the in-memory fakes of ``cm_fakes``
(and the aiohttp fetcher on a local server).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp.resolver import ThreadedResolver

from collection_model.adapters.aiohttp_fetcher import AiohttpFetcher, AiohttpTokenFetcher, new_session
from collection_model.adapters.clock import SystemClock
from collection_model.adapters.dapr_edges import (
    DaprDocumentPublisher,
    DaprEventPublisher,
    DaprSecretProvider,
)
from collection_model.adapters.mcp_client import McpItemSource
from collection_model.adapters.mongo_indexes import ensure_indexes
from collection_model.domain.masking import SecretMasker
from collection_model.service_layer.auth import Authenticator
from collection_model.service_layer.fetch import FetchService
from collection_model.service_layer.ports import (
    ApiTokens,
    Clock,
    ConfigSource,
    EventPublisher,
    HttpClient,
    ItemSource,
    Publisher,
    SecretLog,
    SecretProvider,
    TokenFetcher,
)
from collection_model.service_layer.uploads import UploadService
from collection_model.service_layer.work import WorkHandler
from collection_model.settings import Settings
from headwater.edge.auth import ApiTokenProvider
from headwater.edge.blobs import MongoBlobStore
from headwater.edge.configs import PlannerConfigClient
from headwater.edge.logging import secrets as log_secrets
from headwater.edge.service import sidecar_and_database

__all__ = ["Adapters", "Container", "build", "connect"]


@dataclass(frozen=True)
class Adapters:
    """One implementation of every port (``service_layer/ports.py``)."""

    http: HttpClient
    oauth: TokenFetcher
    secrets: SecretProvider
    secret_log: SecretLog
    items: ItemSource
    configs: ConfigSource
    publisher: Publisher
    events: EventPublisher
    clock: Clock
    tokens: ApiTokens


@dataclass(frozen=True)
class Container:
    """The wired service layer the entrypoints call (and the API token they check)."""

    work: WorkHandler
    uploads: UploadService
    fetch: FetchService
    tokens: ApiTokens


def build(adapters: Adapters, settings: Settings) -> Container:
    """Wire the service layer to ``adapters`` (real ones or in-memory fakes); no I/O."""
    a = adapters
    auth = Authenticator(a.secrets, a.oauth, a.clock, SecretMasker(on_register=a.secret_log.register))
    fetch = FetchService(a.http, a.items, auth, a.clock, platform_allowlist=settings.allow_private_hosts)
    return Container(
        work=WorkHandler(a.configs, fetch, a.publisher, a.events, a.clock),
        uploads=UploadService(a.configs, a.publisher, settings.max_upload_bytes),
        fetch=fetch,
        tokens=a.tokens,
    )


@asynccontextmanager
async def connect(settings: Settings) -> AsyncIterator[Container]:
    """collection-model on its Dapr sidecar, MongoDB and an aiohttp session; all closed on exit."""
    resolver = ThreadedResolver()
    async with sidecar_and_database(settings) as (sidecar, db), new_session(resolver) as session:
        await ensure_indexes(db)
        fetcher = AiohttpFetcher(session, resolver)
        api_token = settings.api_token.get_secret_value() if settings.api_token else None
        adapters = Adapters(
            http=fetcher,
            oauth=AiohttpTokenFetcher(fetcher),
            secrets=DaprSecretProvider(sidecar),
            secret_log=log_secrets,
            items=McpItemSource(settings.dapr_url, _token(settings)),
            configs=PlannerConfigClient(sidecar),
            publisher=DaprDocumentPublisher(sidecar, MongoBlobStore(db), settings.inline_limit_bytes),
            events=DaprEventPublisher(sidecar),
            clock=SystemClock(),
            tokens=ApiTokenProvider(sidecar, api_token),
        )
        yield build(adapters, settings)


def _token(settings: Settings) -> str | None:
    """The sidecar's API token (``DAPR_API_TOKEN``), which the MCP client sends too."""
    return settings.dapr_api_token.get_secret_value() if settings.dapr_api_token else None
