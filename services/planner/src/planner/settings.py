"""Settings of the planner service (environment, see headwater.edge.settings)."""

from headwater.edge.settings import ServiceSettings

__all__ = ["Settings"]


class Settings(ServiceSettings):
    """Planner settings (``HEADWATER_*``)."""

    max_work_items_per_run: int = 100
