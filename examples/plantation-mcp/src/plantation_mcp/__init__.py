"""Example MCP tool server: ``list_active_regions``."""
