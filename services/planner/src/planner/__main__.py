"""Run the planner service: `python -m planner` (dapr run sets APP_PORT)."""

from headwater.edge.service import serve
from planner.settings import Settings

if __name__ == "__main__":
    settings = Settings()
    serve("planner.entrypoints.app:create_app", settings.app_port, settings.bind_address)
