"""Settings every service reads from its environment (set by ``dapr run`` and ``headwater up``)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ServiceSettings"]


class ServiceSettings(BaseSettings):
    """Common settings; each service subclasses it with its own fields."""

    model_config = SettingsConfigDict(env_prefix="HEADWATER_", extra="ignore")

    app_id: str = Field(default="headwater", validation_alias=AliasChoices("APP_ID", "HEADWATER_APP_ID"))
    app_port: int = Field(default=8100, validation_alias=AliasChoices("APP_PORT", "HEADWATER_APP_PORT"))
    bind_address: str = Field(
        default="127.0.0.1",
        description="where the app listens: loopback locally (only its sidecar calls it), 0.0.0.0 in a "
        "container so that kubelet probes on the pod IP reach it (HEADWATER_BIND_ADDRESS)",
    )
    dapr_http_port: int = Field(default=3500, validation_alias=AliasChoices("DAPR_HTTP_PORT"))
    dapr_api_token: SecretStr | None = Field(default=None, validation_alias=AliasChoices("DAPR_API_TOKEN"))
    app_api_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("APP_API_TOKEN"),
        description="when set, every call from daprd must carry it as dapr-api-token",
    )
    api_token: SecretStr | None = Field(
        default=None, description="operator API token; else the secret headwater:api_token from the Dapr secret store"
    )
    mongodb_uri: str = Field(default="mongodb://127.0.0.1:27018/", validation_alias=AliasChoices("MONGODB_URI"))
    mongodb_database: str = Field(default="headwater", validation_alias=AliasChoices("MONGODB_DATABASE"))
    log_level: str = "info"
    log_json: bool = False

    @property
    def dapr_url(self) -> str:
        return f"http://127.0.0.1:{self.dapr_http_port}"
