"""Settings of the worker service (environment, see headwater.edge.settings)."""

from pydantic import Field

from headwater.edge.settings import ServiceSettings

__all__ = ["Settings"]


class Settings(ServiceSettings):
    """worker settings."""

    claim_stale_after_s: float = Field(
        default=300.0,
        gt=0,
        description="a document claimed longer ago than this by a delivery that never finished is taken over",
    )
    stream_wait_s: float = Field(
        default=10.0,
        ge=0,
        description=(
            "a delivery whose stream (the same request) another delivery is processing waits this long "
            "for it before answering RETRY"
        ),
    )
