"""``python -m event_subscriber`` (dapr run sets APP_PORT)."""

import os

from headwater.edge.service import serve

if __name__ == "__main__":
    serve("event_subscriber.app:create_app", int(os.environ.get("APP_PORT", "8105")))
