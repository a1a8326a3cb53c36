"""``python -m event_subscriber`` (dapr run sets APP_PORT)."""

import os

import uvicorn


def main() -> None:
    uvicorn.run(
        "event_subscriber.app:create_app",
        factory=True,
        host="127.0.0.1",
        port=int(os.environ.get("APP_PORT", "8105")),
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
