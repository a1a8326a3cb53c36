"""Settings of the local runtime (``HEADWATER_*`` environment variables).

Every port is ``default + port_offset`` so that a development stack (offset 0) and
the integration-test stack (offset 1000) can run side by side.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Ports", "RuntimeSettings", "project_dir"]


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
    redis: int
    postgres: int
    ferretdb: int
    offset: int

    @classmethod
    def with_offset(cls, offset: int) -> Ports:
        return cls(
            scheduler=30106 + offset,
            scheduler_healthz=30081 + offset,
            scheduler_metrics=30091 + offset,
            etcd_client=30379 + offset,
            etcd_peer=30380 + offset,
            redis=6380 + offset,
            postgres=5433 + offset,
            ferretdb=27018 + offset,
            offset=offset,
        )

    def infrastructure(self) -> dict[str, int]:
        return {
            "scheduler gRPC": self.scheduler,
            "scheduler healthz": self.scheduler_healthz,
            "scheduler metrics": self.scheduler_metrics,
            "scheduler etcd client": self.etcd_client,
            "scheduler etcd peer": self.etcd_peer,
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
    mongodb_uri: str | None = Field(default=None, validation_alias=AliasChoices("MONGODB_URI", "HEADWATER_MONGODB_URI"))

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
