"""``python -m demo_data`` (port from DEMO_PORT)."""

import os

from headwater.edge.service import serve

if __name__ == "__main__":
    serve("demo_data.app:create_app", int(os.environ.get("DEMO_PORT", "8190")))
