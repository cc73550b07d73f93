"""An Angie MCP server."""
