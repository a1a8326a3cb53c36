"""Settings of the collection-model service (environment, see headwater.edge.settings)."""

from headwater.edge.settings import ServiceSettings

__all__ = ["Settings"]


class Settings(ServiceSettings):
    """collection-model settings."""
