"""Outlook for Angie: an MCP server on the shared mail tools, through Microsoft Graph."""
