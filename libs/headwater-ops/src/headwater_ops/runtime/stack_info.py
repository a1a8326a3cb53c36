"""What runs where in one instance: returned by ``Stack.up`` and printed by ``headwater up``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from headwater_ops.runtime.render import AppEndpoint

__all__ = ["StackInfo"]


@dataclass
class StackInfo:
    """What runs where: returned by ``Stack.up`` and printed by ``headwater up``."""

    instance_dir: Path
    mongodb_uri: str
    mongodb_database: str
    redis_address: str
    scheduler_address: str
    apps: dict[str, AppEndpoint] = field(default_factory=dict)
    replicas: list[AppEndpoint] = field(default_factory=list)  # extra replicas (runtime/replicas.py)
    logs: dict[str, Path] = field(default_factory=dict)
    runtime_source: str = ""
    secrets_file: Path | None = None
    dapr_api_token: str | None = field(default=None, repr=False)
    """every sidecar requires it as ``dapr-api-token`` (``<instance>/tokens.json``)"""

    def dapr_headers(self) -> dict[str, str]:
        """The header a call to any of the instance's sidecars needs."""
        return {"dapr-api-token": self.dapr_api_token} if self.dapr_api_token else {}
