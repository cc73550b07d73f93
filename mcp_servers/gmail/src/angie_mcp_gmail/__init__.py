"""Gmail for Angie: an MCP server on the shared mail tools."""
