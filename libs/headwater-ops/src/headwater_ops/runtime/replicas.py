"""Extra replicas of an app on the local stack, as Kubernetes runs them: the same app id, each
replica with its own process and its own sidecar (``headwater up --replicas worker=3``).

Replicas of one app share its pub/sub consumer group (``consumerID: "{appID}"``), so Redis
hands each message to one of them, and its name-resolution entry, so an invocation reaches
one of them. Replica ``k`` (1, 2, 3) of an app listens on the app's ports plus ``20 * k``
(worker replica 1: app 8123, sidecar 3523, ...), which stays clear of every other port of
the stack for up to ``MAX_REPLICAS``; its process gets ``HEADWATER_REPLICA=k`` and its logs
are ``<app id>-<k>.app.log`` / ``.daprd.log``. Only the apps that scale out (collection-model,
worker) may have replicas: the planner keeps one scheduler-job owner.
"""

from __future__ import annotations

from dataclasses import replace

from headwater_ops.runtime.render import AppEndpoint

__all__ = ["MAX_REPLICAS", "SCALABLE", "check_replicas", "parse_replicas", "replica_endpoints"]

MAX_REPLICAS = 4
SCALABLE = ("collection-model", "worker")
PORT_STEP = 20


def parse_replicas(items: list[str]) -> dict[str, int]:
    """``["worker=3", "collection-model=2"]`` → ``{"worker": 3, "collection-model": 2}``."""
    out: dict[str, int] = {}
    for item in items:
        app_id, sep, count = item.partition("=")
        if not sep or not count.strip().isdigit():
            raise ValueError(f"--replicas {item!r}: expected APP=N, e.g. worker=3")
        out[app_id.strip()] = int(count)
    return check_replicas(out)


def check_replicas(replicas: dict[str, int]) -> dict[str, int]:
    for app_id, count in replicas.items():
        if app_id not in SCALABLE:
            raise ValueError(f"replicas of {app_id!r}: only {', '.join(SCALABLE)} scale out")
        if not 1 <= count <= MAX_REPLICAS:
            raise ValueError(f"replicas of {app_id}: {count} is not between 1 and {MAX_REPLICAS}")
    return replicas


def replica_endpoints(primaries: dict[str, AppEndpoint], replicas: dict[str, int]) -> list[AppEndpoint]:
    """The extra replicas (1 … N-1) of every app in ``replicas``; the primary is replica 0."""
    extra = []
    for app_id, count in check_replicas(replicas).items():
        ep = primaries[app_id]
        for k in range(1, count):
            step = PORT_STEP * k
            extra.append(
                replace(
                    ep,
                    replica=k,
                    app_port=ep.app_port + step,
                    dapr_http_port=ep.dapr_http_port + step,
                    dapr_grpc_port=ep.dapr_grpc_port + step,
                    dapr_internal_grpc_port=ep.dapr_internal_grpc_port + step,
                    metrics_port=ep.metrics_port + step,
                )
            )
    return extra
