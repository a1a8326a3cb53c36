"""The planner's composition root: the only place concrete adapters are chosen.

``connect(settings)`` opens the sidecar and database clients (and the aiohttp session of the
frequent sidecar calls: jobs, work items), builds the MongoDB, Dapr and OpenTelemetry adapters
and hands them to ``build``; the app's lifespan is just
``async with connect(settings) as container``. ``build(adapters, settings)`` wires the service
layer and does no I/O; unit tests call it with the in-memory fakes of ``planner_fakes``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta

from headwater.edge.auth import ApiTokenProvider
from headwater.edge.service import SystemClock, sidecar_and_database
from headwater.telemetry import Gauge
from planner.adapters.dapr_aiohttp import AiohttpSidecar, new_session
from planner.adapters.dapr_jobs import DaprJobsClient
from planner.adapters.dapr_publisher import DaprWorkPublisher
from planner.adapters.mongo_indexes import ensure_indexes
from planner.adapters.mongo_jobs import MongoJobRegistry
from planner.adapters.mongo_planning import MongoRunRepository, MongoStateRepository, MongoTaskLedger
from planner.adapters.mongo_retries import MongoRetryRepository
from planner.adapters.mongo_sources import MongoSourceRepository
from planner.adapters.mongo_watermark_lag import MongoWatermarkLag
from planner.adapters.otel_metrics import OtelPlannerMetrics
from planner.service_layer.jobs import JobRegistrationService
from planner.service_layer.planning import PlanningService
from planner.service_layer.ports import (
    ApiTokens,
    Clock,
    JobRegistry,
    JobScheduler,
    Metrics,
    RetryRepository,
    RunRepository,
    SourceRepository,
    StateRepository,
    TaskLedger,
    WorkPublisher,
)
from planner.service_layer.queries import RunQueries
from planner.service_layer.results import ResultService
from planner.service_layer.retries import RetryService
from planner.service_layer.sources import SourceService
from planner.service_layer.sweeps import Sweeper
from planner.service_layer.triggers import TriggerService
from planner.settings import Settings

__all__ = ["Adapters", "Container", "build", "connect"]


@dataclass(frozen=True)
class Adapters:
    """One implementation of every port (``service_layer/ports.py``)."""

    sources: SourceRepository
    registry: JobRegistry
    scheduler: JobScheduler
    publisher: WorkPublisher
    runs: RunRepository
    state: StateRepository
    ledger: TaskLedger
    retries: RetryRepository
    clock: Clock
    metrics: Metrics
    tokens: ApiTokens


@dataclass(frozen=True)
class Container:
    """The wired service layer the entrypoints call (and the API token they check)."""

    sources: SourceService
    jobs: JobRegistrationService
    triggers: TriggerService
    planning: PlanningService
    results: ResultService
    queries: RunQueries
    sweeper: Sweeper
    tokens: ApiTokens
    gauges: tuple[Gauge, ...] = ()  # refreshed by the sweep (headwater.watermark.lag)


def build(adapters: Adapters, settings: Settings) -> Container:
    """Wire the service layer to ``adapters`` (real ones or in-memory fakes); no I/O."""
    a = adapters
    jobs = JobRegistrationService(a.scheduler, a.registry, a.sources, a.clock, settings.job_concurrency)
    retries = RetryService(a.retries, a.sources, a.clock, a.metrics)
    planning = PlanningService(
        a.publisher,
        a.runs,
        a.state,
        a.clock,
        a.metrics,
        retries,
        owner=f"planner-{settings.app_port}",
        global_cap=settings.max_work_items_per_run,
        publish_attempts=settings.publish_attempts,
        publish_wait_max=settings.publish_retry_wait_max,
        run_timeout=timedelta(seconds=settings.run_timeout),
    )
    return Container(
        sources=SourceService(a.sources, jobs, a.clock),
        jobs=jobs,
        triggers=TriggerService(
            a.sources, a.registry, planning, a.state, jobs, a.clock, concurrency=settings.trigger_concurrency
        ),
        planning=planning,
        results=ResultService(a.ledger, a.runs, a.state, retries, a.clock, a.metrics),
        queries=RunQueries(a.runs, a.state, a.sources, a.registry, a.retries, a.clock, a.ledger),
        sweeper=Sweeper(a.runs, retries, jobs, a.clock, a.metrics),
        tokens=a.tokens,
    )


@asynccontextmanager
async def connect(settings: Settings) -> AsyncIterator[Container]:
    """The planner on its Dapr sidecar and MongoDB; the clients are closed on exit."""
    dapr_token = settings.dapr_api_token.get_secret_value() if settings.dapr_api_token else None
    connections = settings.job_concurrency + settings.trigger_concurrency
    async with (
        sidecar_and_database(settings) as (sidecar, db),
        new_session(settings.dapr_url, dapr_token, connections) as session,
    ):
        await ensure_indexes(db)
        api_token = settings.api_token.get_secret_value() if settings.api_token else None
        fast = AiohttpSidecar(session)
        adapters = Adapters(
            sources=MongoSourceRepository(db),
            registry=MongoJobRegistry(db),
            scheduler=DaprJobsClient(fast),
            publisher=DaprWorkPublisher(fast),
            runs=MongoRunRepository(db),
            state=MongoStateRepository(db),
            ledger=MongoTaskLedger(db),
            retries=MongoRetryRepository(db),
            clock=SystemClock(),
            metrics=OtelPlannerMetrics(),
            tokens=ApiTokenProvider(sidecar, api_token),
        )
        yield replace(build(adapters, settings), gauges=(MongoWatermarkLag(db),))
