"""The CLI's client of the planner API (through the planner's Dapr sidecar by default)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx

__all__ = ["ApiClient", "ApiError", "Unreachable", "default_api_url", "default_dapr_token", "default_token"]

DEFAULT_API_URL = "http://127.0.0.1:3501/v1.0/invoke/planner/method"


class Unreachable(RuntimeError):
    """The planner (or its sidecar) did not answer: exit code 3."""


class ApiError(RuntimeError):
    """The planner answered with an error: exit code 1."""

    def __init__(self, status: int, detail: Any) -> None:
        self.status = status
        self.detail = detail
        message = detail.get("message") if isinstance(detail, dict) else detail
        super().__init__(f"HTTP {status}: {message}")


def default_api_url() -> str:
    return os.environ.get("HEADWATER_API_URL", DEFAULT_API_URL)


def default_token() -> str | None:
    """``HEADWATER_API_TOKEN``, else the token ``headwater up`` put in the local secret store."""
    token = os.environ.get("HEADWATER_API_TOKEN")
    if token:
        return token
    from headwater_ops.runtime.settings import RuntimeSettings  # only for the local default

    try:
        secrets_file = RuntimeSettings().instance_dir / "secrets.json"
        data = json.loads(secrets_file.read_text())
        return str(data["headwater"]["api_token"])
    except (OSError, KeyError, ValueError, TypeError, RuntimeError):
        return None


def default_dapr_token() -> str | None:
    """``DAPR_API_TOKEN``, else the local stack's (``<instance>/tokens.json``, made by ``headwater up``):
    the sidecar the CLI calls refuses a call without it."""
    token = os.environ.get("DAPR_API_TOKEN")
    if token:
        return token
    from headwater_ops.runtime.settings import RuntimeSettings  # only for the local default
    from headwater_ops.runtime.tokens import InstanceTokens

    try:
        return InstanceTokens(RuntimeSettings().instance_dir / "tokens.json").dapr_api_token
    except (OSError, ValueError, RuntimeError):
        return None


def _unavailable_reason(response: httpx.Response) -> str | None:
    """The reason of the planner's own 503 (its store or the scheduler unavailable), or None
    for any other answer (a 503 of the sidecar has no such body)."""
    if response.status_code != 503:
        return None
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return None
    if isinstance(detail, dict) and detail.get("reason"):
        return f"{detail['reason']}: {detail.get('message', '')}".rstrip(": ")
    return None


class ApiClient:
    def __init__(
        self,
        base_url: str,
        token: str | None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        dapr_token: str | None = None,
    ) -> None:
        """``token`` is the operator API token (``Authorization: Bearer``); ``dapr_token`` the
        ``DAPR_API_TOKEN`` of the sidecar ``base_url`` goes through (``dapr-api-token``)."""
        headers = {"authorization": f"Bearer {token}"} if token else {}
        if dapr_token:
            headers["dapr-api-token"] = dapr_token
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )
        self.base_url = base_url

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise Unreachable(
                f"cannot reach the planner at {self.base_url} ({type(exc).__name__}); "
                "is the platform running (`make up`)?"
            ) from exc
        reason = _unavailable_reason(response)
        if reason is not None:
            raise Unreachable(f"the planner is up but cannot serve this now (HTTP 503): {reason}; try again shortly")
        if response.status_code in (502, 503) or (response.status_code == 500 and "ERR_DIRECT_INVOKE" in response.text):
            raise Unreachable(f"the planner is not reachable through {self.base_url}: {response.text[:200]}")
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise ApiError(response.status_code, detail)
        return response.json() if response.content else None

    def upload(self, path: str, file: Path, content_type: str) -> Any:
        with file.open("rb") as handle:
            return self.request(
                "POST", path, content=handle.read(), headers={"content-type": content_type, "x-filename": file.name}
            )
