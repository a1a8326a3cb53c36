"""``python -m demo_data`` (port from DEMO_PORT)."""

import os

import uvicorn


def main() -> None:
    uvicorn.run(
        "demo_data.app:create_app",
        factory=True,
        host="127.0.0.1",
        port=int(os.environ.get("DEMO_PORT", "8190")),
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
