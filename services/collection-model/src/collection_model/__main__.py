"""Run the collection-model service: `python -m collection_model` (dapr run sets APP_PORT)."""

import uvicorn

from collection_model.settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run(
        "collection_model.entrypoints.app:create_app",
        factory=True,
        host="127.0.0.1",
        port=settings.app_port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
