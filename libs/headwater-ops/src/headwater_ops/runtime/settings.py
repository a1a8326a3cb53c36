"""Settings of the local runtime (``HEADWATER_*`` environment variables).

Every port is ``default + port_offset`` so that a development stack (offset 0) and
the integration-test stack (offset 1000) can run side by side. Every default port lies
below Linux's ephemeral range (32768-60999) with room for an offset up to ``MAX_PORT_OFFSET``:
a listening port inside that range can be taken at any moment by an outgoing connection's
source port (or a socket connected to itself), and a restart then fails with "address
already in use".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["EPHEMERAL_PORT_START", "MAX_PORT_OFFSET", "Ports", "RuntimeSettings", "check_port_range", "project_dir"]

EPHEMERAL_PORT_START = 32768  # Linux's default ip_local_port_range is 32768-60999
_BASE = {
    "scheduler": 3606,
    "scheduler_healthz": 3681,
    "scheduler_metrics": 3691,
    "etcd_client": 3679,
    "etcd_peer": 3680,
    "sentry": 3607,
    "sentry_healthz": 3682,
    "sentry_metrics": 3692,
    "redis": 6380,
    "postgres": 5433,
    "ferretdb": 27018,
}
HIGHEST_BASE_PORT = max(_BASE.values())
MAX_PORT_OFFSET = EPHEMERAL_PORT_START - 1 - HIGHEST_BASE_PORT  # 5749: FerretDB's 27018 is the highest default


def project_dir() -> Path:
    """The checkout: ``HEADWATER_PROJECT_DIR``, else the nearest parent holding ``dapr.yaml``."""
    env = os.environ.get("HEADWATER_PROJECT_DIR")
    if env:
        return Path(env).resolve()
    for start in (Path.cwd(), Path(__file__).resolve()):
        for candidate in (start, *start.parents):
            if (candidate / "dapr.yaml").is_file() and (candidate / "libs").is_dir():
                return candidate
    raise RuntimeError("cannot find the Headwater checkout (no dapr.yaml above here); set HEADWATER_PROJECT_DIR")


@dataclass(frozen=True)
class Ports:
    """Every port the stack binds, on 127.0.0.1 — all below Linux's ephemeral range (32768+), so an
    outgoing connection's source port can never be sitting on one of them."""

    scheduler: int
    scheduler_healthz: int
    scheduler_metrics: int
    etcd_client: int
    etcd_peer: int
    sentry: int
    sentry_healthz: int
    sentry_metrics: int
    redis: int
    postgres: int
    ferretdb: int
    offset: int

    @classmethod
    def with_offset(cls, offset: int) -> Ports:
        return cls(**{name: port + offset for name, port in _BASE.items()}, offset=offset)

    def infrastructure(self) -> dict[str, int]:
        return {
            "scheduler gRPC": self.scheduler,
            "scheduler healthz": self.scheduler_healthz,
            "scheduler metrics": self.scheduler_metrics,
            "scheduler etcd client": self.etcd_client,
            "scheduler etcd peer": self.etcd_peer,
            "sentry gRPC": self.sentry,
            "sentry healthz": self.sentry_healthz,
            "sentry metrics": self.sentry_metrics,
            "redis": self.redis,
            "postgresql": self.postgres,
            "ferretdb": self.ferretdb,
        }


class RuntimeSettings(BaseSettings):
    """Where the runtime lives and which ports it uses."""

    model_config = SettingsConfigDict(env_prefix="HEADWATER_", extra="ignore")

    instance: str = "dev"
    port_offset: int = 0
    home: Path | None = Field(default=None, description="state folder; default <checkout>/.headwater")
    runtime_dir: Path | None = Field(default=None, description="folder with dapr, daprd, scheduler, ferretdb")
    bundle: Path | None = Field(default=None, description="offline runtime bundle (.tar.xz)")
    download_base_url: str = "https://github.com"
    persistent: bool = Field(default=True, description="Redis persistence (off for tests)")
    start_timeout_seconds: float = 90.0
    name_resolution: dict[str, str] = Field(
        default_factory=dict, description="overrides of the sqlite name resolution's configuration (tests)"
    )
    pubsub: dict[str, str] = Field(
        default_factory=dict, description="overrides of the pub/sub component's metadata (fault tests)"
    )
    replicas: dict[str, int] = Field(
        default_factory=dict, description="app id -> replicas (collection-model, worker), HEADWATER_REPLICAS as JSON"
    )
    mongodb_uri: str | None = Field(default=None, validation_alias=AliasChoices("MONGODB_URI", "HEADWATER_MONGODB_URI"))

    @field_validator("port_offset")
    @classmethod
    def _offset_keeps_ports_below_ephemeral_range(cls, value: int) -> int:
        if not 0 <= value <= MAX_PORT_OFFSET:
            raise ValueError(
                f"HEADWATER_PORT_OFFSET={value} is outside 0..{MAX_PORT_OFFSET}: every port must stay below "
                f"{EPHEMERAL_PORT_START} (Linux's ephemeral range), and the highest default port is {HIGHEST_BASE_PORT}"
            )
        return value

    @property
    def project(self) -> Path:
        return project_dir()

    @property
    def state_dir(self) -> Path:
        return (self.home or self.project / ".headwater").resolve()

    @property
    def instance_dir(self) -> Path:
        return self.state_dir / self.instance

    @property
    def bundle_path(self) -> Path:
        if self.bundle is not None:
            return self.bundle
        return self.project.parent / "shared" / "runtime" / "headwater-runtime-linux-amd64.tar.xz"

    @property
    def ports(self) -> Ports:
        return Ports.with_offset(self.port_offset)


def check_port_range(ports: dict[str, int]) -> None:
    """Refuse any port at or above the ephemeral range (e.g. an app port of dapr.yaml plus the offset)."""
    high = [f"{port} ({name})" for name, port in ports.items() if not 0 < port < EPHEMERAL_PORT_START]
    if high:
        raise ValueError(
            f"port(s) {', '.join(high)} fall in Linux's ephemeral range (>= {EPHEMERAL_PORT_START}): "
            f"lower HEADWATER_PORT_OFFSET (at most {MAX_PORT_OFFSET}) or the ports in dapr.yaml"
        )
