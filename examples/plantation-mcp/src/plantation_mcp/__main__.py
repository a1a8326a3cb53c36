"""Run the example MCP server: ``python -m plantation_mcp`` (dapr run sets APP_PORT)."""

import os

from headwater.edge.service import serve

if __name__ == "__main__":
    serve("plantation_mcp.app:create_app", int(os.environ.get("APP_PORT", "8104")))
