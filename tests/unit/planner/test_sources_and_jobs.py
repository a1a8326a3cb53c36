"""Applying configs keeps exactly one Dapr Job per enabled scheduled source."""

from __future__ import annotations

from typing import Any

import pytest
from planner_fakes import (  # type: ignore[import-not-found]
    FakeJobRegistry,
    FakePublisher,
    Fakes,
    FakeScheduler,
    FakeSourceRepository,
    build_planner,
)

from headwater.config import SourceConfig
from planner.bootstrap import Container
from planner.domain.sources import ApplyStatus
from planner.service_layer.errors import NotFound
from planner.service_layer.outcomes import TriggerOutcome


def cfg(schedule: str = "0 6 * * *", enabled: bool = True, **extra: Any) -> SourceConfig:
    data: dict[str, Any] = {
        "source_id": "weather-api",
        "enabled": enabled,
        "ingestion": {
            "mode": "scheduled_pull",
            "schedule": schedule,
            "request": {"base_url": "https://api.example.com/forecast"},
        },
        **extra,
    }
    return SourceConfig.model_validate(data)


@pytest.fixture
def app() -> tuple[Container, FakeScheduler, FakeJobRegistry, FakeSourceRepository, FakePublisher]:
    fakes = Fakes()
    return build_planner(fakes), fakes.scheduler, fakes.registry, fakes.sources, fakes.publisher


async def test_create_registers_one_job_in_dapr_form(app: Any) -> None:
    container, scheduler, registry, _sources, _ = app
    result = await container.sources.apply(cfg())

    assert result.status is ApplyStatus.CREATED and result.source.version == 1
    assert scheduler.jobs == {
        "source-weather-api": {"schedule": "0 0 6 * * *", "data": {"source_id": "weather-api", "config_version": 1}}
    }
    assert (await registry.get("weather-api")).schedule == "0 0 6 * * *"


async def test_identical_apply_is_a_no_op(app: Any) -> None:
    container, scheduler, _, sources, _ = app
    await container.sources.apply(cfg())
    calls = list(scheduler.calls)

    again = await container.sources.apply(cfg())

    assert again.status is ApplyStatus.UNCHANGED and again.source.version == 1
    assert scheduler.calls == calls
    assert len(sources.versions) == 1


async def test_schedule_change_deletes_then_registers(app: Any) -> None:
    container, scheduler, _, _, _ = app
    await container.sources.apply(cfg())
    scheduler.calls.clear()

    result = await container.sources.apply(cfg(schedule="@every 5m"))

    assert result.status is ApplyStatus.UPDATED and result.source.version == 2
    assert scheduler.calls == [("delete", "source-weather-api"), ("schedule", "source-weather-api")]
    assert scheduler.jobs["source-weather-api"]["schedule"] == "@every 5m"


async def test_change_outside_schedule_and_request_keeps_the_job(app: Any) -> None:
    container, scheduler, _, _, _ = app
    await container.sources.apply(cfg())
    scheduler.calls.clear()

    result = await container.sources.apply(cfg(description="now documented"))

    assert result.status is ApplyStatus.UPDATED and scheduler.calls == []


async def test_disable_and_delete_remove_the_job(app: Any) -> None:
    container, scheduler, registry, _, _ = app
    await container.sources.apply(cfg())
    await container.sources.apply(cfg(enabled=False))
    assert scheduler.jobs == {} and await registry.list() == []

    await container.sources.apply(cfg())
    await container.sources.delete("weather-api")
    assert scheduler.jobs == {} and await registry.list() == []
    with pytest.raises(NotFound, match="source 'weather-api' not found"):
        await container.sources.delete("weather-api")


async def test_sync_all_restores_missing_jobs_and_removes_orphans(app: Any) -> None:
    container, scheduler, registry, sources, _ = app
    await container.sources.apply(cfg())
    scheduler.jobs.clear()  # e.g. the scheduler lost its data
    await sources.delete("weather-api")
    other = SourceConfig.model_validate({**cfg().model_dump(by_alias=True, mode="json"), "source_id": "other"})
    await container.sources.apply(other)
    scheduler.jobs.pop("source-other")

    report = await container.jobs.sync_all_jobs()

    assert report.registered == ["source-other"]
    assert report.deleted == ["source-weather-api"]
    assert set(scheduler.jobs) == {"source-other"}
    assert {j.source_id for j in await registry.list()} == {"other"}


async def test_trigger_of_deleted_disabled_or_outdated_source_is_acknowledged(app: Any) -> None:
    container, _, _, _, publisher = app
    assert (await container.triggers.on_job("source-nope", None)).outcome is TriggerOutcome.SOURCE_DELETED
    assert (await container.triggers.on_job("mystery", None)).outcome is TriggerOutcome.UNKNOWN_JOB

    await container.sources.apply(cfg())
    await container.sources.apply(cfg(schedule="@every 5m"))  # job re-registered at version 2
    outdated = await container.triggers.on_job("source-weather-api", {"config_version": 1})
    assert outdated.outcome is TriggerOutcome.OUTDATED

    live = await container.triggers.on_job("source-weather-api", {"config_version": 2})
    assert live.outcome is TriggerOutcome.PLANNED and len(publisher.published) == 1

    await container.sources.apply(cfg(schedule="@every 5m", enabled=False))
    assert (await container.triggers.on_job("source-weather-api", None)).outcome is TriggerOutcome.SOURCE_DISABLED
    assert len(publisher.published) == 1
