"""Source configs by id and version, from the planner through Dapr service invocation.

Services never read the planner's collections. A version never changes once stored, so
``(source_id, version)`` is cached for the life of the process.
"""

from __future__ import annotations

from collections import OrderedDict

from headwater.config import SourceConfig
from headwater.contracts.topics import API_TOKEN_SECRET, APP_PLANNER, SECRET_STORE
from headwater.edge.logging import secrets
from headwater.edge.sidecar import DaprError, DaprSidecar

__all__ = ["ConfigNotFoundError", "PlannerConfigClient"]


class ConfigNotFoundError(LookupError):
    """The planner does not know this source (or this version of it)."""


class PlannerConfigClient:
    def __init__(self, sidecar: DaprSidecar, api_token: str | None = None, size: int = 256) -> None:
        self._sidecar = sidecar
        self._token = api_token
        self._cache: OrderedDict[tuple[str, int], SourceConfig] = OrderedDict()
        self._size = size

    async def _auth(self) -> dict[str, str]:
        if not self._token:
            self._token = await self._sidecar.secret_value(SECRET_STORE, API_TOKEN_SECRET)
            secrets.register(self._token)
        return {"authorization": f"Bearer {self._token}"}

    async def latest_version(self, source_id: str) -> int:
        """The current version of a source (not cached: it changes)."""
        try:
            response = await self._sidecar.invoke(
                APP_PLANNER, f"api/v1/sources/{source_id}", "GET", headers=await self._auth()
            )
        except DaprError as exc:
            if exc.status == 404:
                raise ConfigNotFoundError(f"source {source_id!r} not found") from exc
            raise
        return int(response.json()["version"])

    async def get(self, source_id: str, version: int) -> SourceConfig:
        key = (source_id, version)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        try:
            response = await self._sidecar.invoke(
                APP_PLANNER,
                f"api/v1/sources/{source_id}",
                "GET",
                params={"version": str(version)},
                headers=await self._auth(),
            )
        except DaprError as exc:
            if exc.status == 404:
                raise ConfigNotFoundError(f"source {source_id!r} version {version} not found") from exc
            raise
        config = SourceConfig.model_validate(response.json()["config"])
        self._cache[key] = config
        if len(self._cache) > self._size:
            self._cache.popitem(last=False)
        return config
