"""Extra Dapr apps beside a test stack: an app process and its own ``daprd``, started with the
instance's rendered components and configuration (so the stack's sidecars find it by app id
through the shared name resolution, and it sees the same pub/sub component).

Ports: ``<base> + slot + the stack's port offset`` (app 8150, sidecar HTTP 3550, gRPC 3560,
internal gRPC 3570, metrics 9250), below the ephemeral range like every port of the stack.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from headwater_ops.runtime.binaries import resolve_runtime
from headwater_ops.runtime.procs import answers
from headwater_ops.runtime.sentry import trust_anchors
from headwater_ops.runtime.stack import Stack

__all__ = ["ExtraApp"]


@dataclass
class ExtraApp:
    """``with ExtraApp(stack, "my-app", slot, ["python", "app.py"], env) as app:`` — both processes
    run until the block ends (each in its own process group, stopped by pid)."""

    stack: Stack
    app_id: str
    slot: int
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    health_path: str | None = "/healthz"
    config: str = "config.yaml"  # the instance's rendered configuration it runs with (access control)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def port(self, base: int) -> int:
        return base + self.slot + self.stack.settings.port_offset

    @property
    def app_port(self) -> int:
        return self.port(8150)

    @property
    def dapr_url(self) -> str:
        return f"http://127.0.0.1:{self.port(3550)}"

    def daprd_argv(self) -> list[str]:
        instance = self.stack.settings.instance_dir
        daprd = resolve_runtime(self.stack.settings, lambda _: None).daprd
        return [
            str(daprd),
            *("--app-id", self.app_id, "--app-port", str(self.app_port)),
            *("--resources-path", str(instance / "components"), "--config", str(instance / self.config)),
            *("--enable-mtls", "--sentry-address", f"127.0.0.1:{self.stack.ports.sentry}"),
            *("--dapr-http-port", str(self.port(3550)), "--dapr-grpc-port", str(self.port(3560))),
            *("--dapr-internal-grpc-port", str(self.port(3570)), "--metrics-port", str(self.port(9250))),
            *("--dapr-listen-addresses", "127.0.0.1", "--app-channel-address", "127.0.0.1"),
            *("--placement-host-address", "", "--log-level", "info"),
        ]

    def __enter__(self) -> ExtraApp:
        logs = self.stack.settings.instance_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env, "APP_PORT": str(self.app_port), "PORT": str(self.app_port)}
        env["DAPR_HTTP_PORT"] = str(self.port(3550))
        env["DAPR_TRUST_ANCHORS"] = trust_anchors(self.stack.settings.instance_dir).read_text()  # the stack's Sentry
        for role, argv in (("app", self.command), ("daprd", self.daprd_argv())):
            out = (logs / f"{self.app_id}.{role}.log").open("ab")
            self.procs.append(
                subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
            )
        try:
            self._wait(f"{self.dapr_url}/v1.0/healthz/outbound", 204, "sidecar")
            if self.health_path:
                self._wait(f"http://127.0.0.1:{self.app_port}{self.health_path}", 200, "app")
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait(self, url: str, status: int, what: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not answers(url, status):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.app_id} {what} never answered {url} (logs in {self.log_dir})")
            dead = [p.args for p in self.procs if p.poll() is not None]
            if dead:
                raise RuntimeError(f"{self.app_id}: {dead[0]!r} exited (logs in {self.log_dir})")
            time.sleep(0.2)

    @property
    def log_dir(self) -> Path:
        return self.stack.settings.instance_dir / "logs"

    def __exit__(self, *_: object) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        self.procs.clear()
