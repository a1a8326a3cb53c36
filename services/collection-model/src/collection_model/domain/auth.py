"""How each ``auth_type`` turns secret values into request credentials, and the OAuth2 token
cache. Reading the secrets and calling the token endpoint happen elsewhere (ports).

=============================  ===============================================================
auth_type                      credentials
=============================  ===============================================================
none                           nothing
api_key                        ``auth_header: <secret>``, or ``?<auth_query_param>=<secret>``
bearer                         ``Authorization: Bearer <secret>``
basic                          ``Authorization: Basic base64(<user>:<password>)``
oauth2_client_credentials      ``Authorization: Bearer <token>``; the token comes from
                               ``token_url`` (client id and secret from the store) and is kept
                               until its expiry minus a margin
=============================  ===============================================================
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field

from headwater.config import RequestSpec

__all__ = ["NO_CREDENTIALS", "Credentials", "TokenCache", "api_key", "basic", "bearer", "token_cache_key"]


@dataclass(frozen=True)
class Credentials:
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)


NO_CREDENTIALS = Credentials()


def api_key(spec: RequestSpec, key: str) -> Credentials:
    if spec.auth_in == "query":
        return Credentials(params={str(spec.auth_query_param): key})
    return Credentials(headers={spec.auth_header: key})


def bearer(token: str) -> Credentials:
    return Credentials(headers={"Authorization": f"Bearer {token}"})


def basic_token(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def basic(user: str, password: str) -> Credentials:
    return Credentials(headers={"Authorization": f"Basic {basic_token(user, password)}"})


def token_cache_key(spec: RequestSpec) -> tuple[str, ...]:
    """Tokens are shared by every source using the same endpoint, client and scope."""
    return (str(spec.token_url), spec.secret_store, str(spec.client_id_secret_key), spec.scope or "")


class TokenCache:
    """Access tokens until ``expires_in - margin`` (half the lifetime when that is shorter)."""

    def __init__(self, margin_seconds: float = 30.0) -> None:
        self.margin = margin_seconds
        self._tokens: dict[tuple[str, ...], tuple[str, float]] = {}

    def get(self, key: tuple[str, ...], now: float) -> str | None:
        found = self._tokens.get(key)
        return found[0] if found and now < found[1] else None

    def put(self, key: tuple[str, ...], token: str, expires_in: float, now: float) -> None:
        keep = expires_in - self.margin if expires_in > 2 * self.margin else expires_in / 2
        self._tokens[key] = (token, now + max(0.0, keep))

    def drop(self, key: tuple[str, ...]) -> None:
        self._tokens.pop(key, None)
