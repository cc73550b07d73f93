"""How Angie finds, starts, watches and talks to MCP servers."""
