"""Run the worker service: `python -m worker` (dapr run sets APP_PORT)."""

import uvicorn

from worker.settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run(
        "worker.entrypoints.app:create_app",
        factory=True,
        host="127.0.0.1",
        port=settings.app_port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
