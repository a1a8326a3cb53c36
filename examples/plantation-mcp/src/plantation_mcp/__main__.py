"""Run the example MCP server: ``python -m plantation_mcp`` (dapr run sets APP_PORT)."""

import os

import uvicorn

if __name__ == "__main__":
    port = int(os.environ.get("APP_PORT", "8104"))
    uvicorn.run("plantation_mcp.app:create_app", factory=True, host="127.0.0.1", port=port, log_level="warning")
