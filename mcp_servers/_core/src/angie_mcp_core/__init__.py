"""The kit Angie's MCP servers are built with."""
