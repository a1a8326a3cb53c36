"""Extra replicas of collection-model and worker on the local stack (`headwater up --replicas`):
the same app id, ports of their own, logs of their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater_ops.runtime.replicas import parse_replicas
from headwater_ops.runtime.restarts import RestartPolicy
from headwater_ops.runtime.settings import RuntimeSettings
from headwater_ops.runtime.stack import Stack
from headwater_ops.runtime.supervisor import children_of


def test_replicas_are_parsed_and_bounded() -> None:
    assert parse_replicas(["worker=3", "collection-model = 2"]) == {"worker": 3, "collection-model": 2}
    for bad, message in (
        ("planner=2", "only collection-model, worker"),
        ("worker=5", "between 1 and 4"),
        ("worker", "APP=N"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_replicas([bad])


def test_each_replica_is_the_same_app_with_its_own_ports_sidecar_and_logs(tmp_path: Path) -> None:
    stack = Stack(RuntimeSettings(home=tmp_path, instance="r", port_offset=1000, replicas={"worker": 3}), report=print)
    endpoints = stack.endpoints()
    workers = [ep for ep in endpoints if ep.app_id == "worker"]
    assert [ep.name for ep in workers] == ["worker", "worker-1", "worker-2"]
    ports = [
        p
        for ep in endpoints
        for p in (ep.app_port, ep.dapr_http_port, ep.dapr_grpc_port, ep.dapr_internal_grpc_port, ep.metrics_port)
    ]
    ports += list(stack.ports.infrastructure().values())
    assert len(ports) == len(set(ports)), "two processes would bind one port"
    children = children_of(stack.render(), Path("/opt/daprd"), tmp_path, RestartPolicy())
    worker_children = [c for c in children if c.spec.app_id == "worker"]
    assert sorted(c.log_file.name for c in worker_children) == sorted(
        f"{name}.{role}.log" for name in ("worker", "worker-1", "worker-2") for role in ("app", "daprd")
    )
    apps = {c.spec.replica: c.spec.env for c in worker_children if c.spec.role == "app"}
    assert apps[2]["HEADWATER_REPLICA"] == "2" and apps[2]["APP_ID"] == "worker"
    assert apps[2]["APP_PORT"] == str(workers[2].app_port)
    sidecars = {c.spec.replica: c.spec.argv for c in worker_children if c.spec.role == "daprd"}
    assert sidecars[1][sidecars[1].index("--app-id") + 1] == "worker"
    assert sidecars[1][sidecars[1].index("--dapr-http-port") + 1] == str(workers[1].dapr_http_port)
