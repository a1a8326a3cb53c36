"""Run the collection-model service: `python -m collection_model` (dapr run sets APP_PORT)."""

from collection_model.settings import Settings
from headwater.edge.service import serve

if __name__ == "__main__":
    settings = Settings()
    serve("collection_model.entrypoints.app:create_app", settings.app_port, settings.bind_address)
