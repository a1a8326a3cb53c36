"""Credentials for a request, read from the secret store at use time.

Every secret value read is registered with the log masker, so it is scrubbed from logs and
from error messages; nothing is stored except an OAuth2 token in memory until it expires.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

from collection_model.service_layer.ports import SecretProvider, TokenFetcher
from headwater.config import RequestSpec
from headwater.edge.logging import secrets as masker

__all__ = ["Authenticator"]

REFRESH_MARGIN_S = 30.0


class Authenticator:
    def __init__(
        self, secrets: SecretProvider, tokens: TokenFetcher, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._secrets = secrets
        self._tokens = tokens
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[str, float]] = {}

    async def _secret(self, spec: RequestSpec, key: str | None) -> str:
        assert key is not None
        value = await self._secrets.get_secret(spec.secret_store, key)
        masker.register(value)
        return value

    async def credentials(self, spec: RequestSpec) -> tuple[dict[str, str], dict[str, str]]:
        """Headers and query parameters to add for ``spec.auth_type``."""
        kind = spec.auth_type
        if kind == "none":
            return {}, {}
        if kind == "api_key":
            key = await self._secret(spec, spec.secret_key)
            if spec.auth_in == "query":
                return {}, {str(spec.auth_query_param): key}
            return {spec.auth_header: key}, {}
        if kind == "bearer":
            return {"authorization": f"Bearer {await self._secret(spec, spec.secret_key)}"}, {}
        if kind == "basic":
            user = await self._secret(spec, spec.username_secret_key)
            password = await self._secret(spec, spec.password_secret_key)
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            masker.register(token)
            return {"authorization": f"Basic {token}"}, {}
        return {"authorization": f"Bearer {await self._oauth2(spec)}"}, {}

    async def _oauth2(self, spec: RequestSpec) -> str:
        cache_key = (str(spec.token_url), str(spec.client_id_secret_key))
        cached = self._cache.get(cache_key)
        if cached and cached[1] > self._clock():
            return cached[0]
        client_id = await self._secret(spec, spec.client_id_secret_key)
        client_secret = await self._secret(spec, spec.client_secret_secret_key)
        token, lifetime = await self._tokens.client_credentials(
            str(spec.token_url), client_id, client_secret, spec.scope
        )
        masker.register(token)
        self._cache[cache_key] = (token, self._clock() + max(0.0, lifetime - REFRESH_MARGIN_S))
        return token

    def forget(self, spec: RequestSpec) -> None:
        """Drop a cached token (after a 401)."""
        self._cache.pop((str(spec.token_url), str(spec.client_id_secret_key)), None)
