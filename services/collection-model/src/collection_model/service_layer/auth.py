"""Credentials for a request, from the secret store at use time.

Every secret value read (and every token and derived header value) is registered with the
``SecretMasker``, which scrubs error texts and — through its ``on_register`` hook, which
``bootstrap.build`` points at the ``SecretLog`` port — log fields. Nothing is stored except
an OAuth2 access token, in memory, until it expires.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from collection_model.domain import auth
from collection_model.domain.auth import Credentials, TokenCache
from collection_model.domain.errors import CredentialError
from collection_model.domain.masking import SecretMasker
from collection_model.service_layer.ports import Clock, SecretProvider, TokenFetcher
from headwater.config import RequestSpec

__all__ = ["Authenticator"]


class Authenticator:
    def __init__(
        self,
        secrets: SecretProvider,
        tokens: TokenFetcher,
        clock: Clock,
        masker: SecretMasker,
        *,
        token_margin_seconds: float = 30.0,
    ) -> None:
        """``masker`` receives every secret value, token and derived header value."""
        self._secrets = secrets
        self._tokens = tokens
        self._clock = clock
        self.masker = masker
        self._cache = TokenCache(token_margin_seconds)
        self._locks: dict[tuple[str, ...], asyncio.Lock] = {}

    async def credentials(self, spec: RequestSpec, allowlist: Collection[str] = ()) -> Credentials:
        """Headers and query parameters for ``spec.auth_type`` (``allowlist`` guards the token URL)."""
        kind = spec.auth_type
        if kind == "none":
            return auth.NO_CREDENTIALS
        if kind == "api_key":
            return auth.api_key(spec, await self._secret(spec, spec.secret_key))
        if kind == "bearer":
            return auth.bearer(await self._secret(spec, spec.secret_key))
        if kind == "basic":
            user = await self._secret(spec, spec.username_secret_key)
            password = await self._secret(spec, spec.password_secret_key)
            self.masker.register(auth.basic_token(user, password))
            return auth.basic(user, password)
        if kind == "oauth2_client_credentials":
            return auth.bearer(await self._oauth2_token(spec, allowlist))
        raise CredentialError(f"unknown auth_type {kind!r}")

    def forget(self, spec: RequestSpec) -> None:
        """Drop a cached token (the server answered 401 with it)."""
        self._cache.drop(auth.token_cache_key(spec))

    async def _secret(self, spec: RequestSpec, key: str | None) -> str:
        if not key:
            raise CredentialError(f"auth_type {spec.auth_type} needs a secret key")
        try:
            value = await self._secrets.get_secret(spec.secret_store, key)
        except LookupError as exc:
            raise CredentialError(self.masker.mask(str(exc))) from None
        if not value:
            raise CredentialError(f"secret {key!r} in store {spec.secret_store!r} is empty")
        self.masker.register(value)
        return value

    async def _oauth2_token(self, spec: RequestSpec, allowlist: Collection[str]) -> str:
        key = auth.token_cache_key(spec)
        token = self._cache.get(key, self._clock.monotonic())
        if token is not None:
            return token
        async with self._locks.setdefault(key, asyncio.Lock()):  # one token request, not one per item
            token = self._cache.get(key, self._clock.monotonic())
            if token is not None:
                return token
            client_id = await self._secret(spec, spec.client_id_secret_key)
            client_secret = await self._secret(spec, spec.client_secret_secret_key)
            token, lifetime = await self._tokens.client_credentials(
                str(spec.token_url), client_id, client_secret, spec.scope, allowlist=allowlist
            )
            self.masker.register(token)
            self._cache.put(key, token, lifetime, self._clock.monotonic())
            return token
