"""The planner's composition root: the only place concrete adapters are chosen."""

from __future__ import annotations

from dataclasses import dataclass

from headwater.edge.service import SystemClock
from planner.service_layer.jobs import JobRegistrationService
from planner.service_layer.planning import PlanningService, RunRepository, StateRepository
from planner.service_layer.ports import Clock, JobRegistry, JobScheduler, SourceRepository, WorkPublisher
from planner.service_layer.results import ResultService
from planner.service_layer.sources import SourceService
from planner.service_layer.triggers import TriggerService

__all__ = ["Container", "SystemClock", "build"]


@dataclass
class Container:
    sources: SourceService
    jobs: JobRegistrationService
    triggers: TriggerService
    planning: PlanningService
    results: ResultService


def build(
    *,
    sources: SourceRepository,
    registry: JobRegistry,
    scheduler: JobScheduler,
    publisher: WorkPublisher,
    runs: RunRepository,
    state: StateRepository,
    clock: Clock | None = None,
    owner: str = "planner",
    global_cap: int = 100,
) -> Container:
    """Wire the service layer to the given ports (real adapters or in-memory fakes)."""
    clock = clock or SystemClock()
    jobs = JobRegistrationService(scheduler, registry, sources, clock)
    planning = PlanningService(publisher, runs, state, clock, owner=owner, global_cap=global_cap)
    return Container(
        sources=SourceService(sources, jobs, clock),
        jobs=jobs,
        triggers=TriggerService(sources, registry, planning),
        planning=planning,
        results=ResultService(runs, state, clock),
    )
