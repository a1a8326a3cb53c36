"""Settings of the collection-model service (environment, see headwater.edge.settings)."""

from pydantic import Field

from headwater.edge.settings import ServiceSettings

__all__ = ["Settings"]


class Settings(ServiceSettings):
    """collection-model settings (``HEADWATER_*``)."""

    inline_limit_bytes: int = Field(default=256 * 1024, description="bigger bodies travel by claim check")
    max_upload_bytes: int = 100 * 1024 * 1024
    allow_private_hosts: list[str] = Field(
        default_factory=list, description="platform-wide SSRF allowlist (hosts or CIDRs)"
    )
