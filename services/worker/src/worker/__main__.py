"""Run the worker service: `python -m worker` (dapr run sets APP_PORT)."""

from headwater.edge.service import serve
from worker.settings import Settings

if __name__ == "__main__":
    settings = Settings()
    serve("worker.entrypoints.app:create_app", settings.app_port, settings.bind_address)
