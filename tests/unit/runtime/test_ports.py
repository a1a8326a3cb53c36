"""Every port of a stack stays below Linux's ephemeral range (32768+) for every allowed offset,
and an offset that would break this is refused, naming the limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from headwater_ops.runtime.settings import (
    EPHEMERAL_PORT_START,
    MAX_PORT_OFFSET,
    Ports,
    RuntimeSettings,
    check_port_range,
)
from headwater_ops.runtime.stack import Stack


def _all_ports(tmp_path: Path, offset: int) -> dict[str, int]:
    stack = Stack(RuntimeSettings(home=tmp_path, instance="p", port_offset=offset), report=lambda _m: None)
    return stack._ports_needed() | {"demo-data": stack.demo_port}


@pytest.mark.parametrize("offset", [0, 600, 1000, 1400, 2000, 2388, 4000, MAX_PORT_OFFSET])
def test_every_port_is_below_the_ephemeral_range(tmp_path: Path, offset: int) -> None:
    ports = _all_ports(tmp_path, offset)

    too_high = {name: port for name, port in ports.items() if port >= EPHEMERAL_PORT_START}
    assert too_high == {}
    assert len(set(ports.values())) == len(ports), "two parts of one stack share a port"


def test_the_limit_is_set_by_the_highest_port() -> None:
    assert MAX_PORT_OFFSET == 5749
    assert max(Ports.with_offset(MAX_PORT_OFFSET).infrastructure().values()) == EPHEMERAL_PORT_START - 1


@pytest.mark.parametrize("offset", [MAX_PORT_OFFSET + 1, 30000, -1])
def test_an_offset_beyond_the_limit_is_refused_naming_it(offset: int) -> None:
    with pytest.raises(ValidationError) as err:
        RuntimeSettings(port_offset=offset)

    message = str(err.value)
    assert "port_offset" in message
    assert f"0..{MAX_PORT_OFFSET}" in message
    assert str(EPHEMERAL_PORT_START) in message


def test_the_offset_is_read_from_the_environment_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_PORT_OFFSET", "6000")
    with pytest.raises(ValidationError, match="HEADWATER_PORT_OFFSET=6000"):
        RuntimeSettings()


def test_the_documented_development_ports_stay(tmp_path: Path) -> None:
    stack = Stack(RuntimeSettings(home=tmp_path, instance="dev", port_offset=0), report=lambda _m: None)
    planner = stack.apps()["planner"]

    assert planner.dapr_url == "http://127.0.0.1:3501"  # the CLI's default --api-url
    assert planner.app_port == 8101
    assert stack.mongodb_uri == "mongodb://127.0.0.1:27018/"
    assert (stack.ports.redis, stack.ports.postgres, stack.ports.scheduler) == (6380, 5433, 3606)


def test_a_port_in_the_ephemeral_range_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"40000 \(worker app\).*at most 5749"):
        check_port_range({"planner app": 8101, "worker app": 40000})
