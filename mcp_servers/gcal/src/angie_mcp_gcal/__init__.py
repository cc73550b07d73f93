"""Angie's MCP server for Google Calendar."""
