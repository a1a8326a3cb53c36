"""Settings of the worker service (environment, see headwater.edge.settings)."""

from pydantic import Field

from headwater.edge.settings import ServiceSettings

__all__ = ["Settings"]


class Settings(ServiceSettings):
    """worker settings."""

    claim_stale_after_s: float = Field(
        default=30.0,
        gt=0,
        description=(
            "the lease of a document's claim: renewed every third of it while a delivery processes the "
            "document, so a claim not renewed for this long (its worker died) is taken over and resumed"
        ),
    )
    stream_wait_s: float = Field(
        default=40.0,
        ge=0,
        description=(
            "a delivery whose stream (the same request) another live delivery is processing is held this "
            "long (inside Redis' processingTimeout of 60 s) before answering RETRY; holding spends none of "
            "Dapr's retries"
        ),
    )
    batch_rows: int = Field(
        default=2000, gt=0, description="rows parsed, stored and logged together (memory stays bounded by it)"
    )
    outbox_drain_s: float = Field(
        default=5.0, gt=0, description="how often the lifespan publishes the events and results kept in the outbox"
    )
