"""Angie's Yahoo Mail MCP server: one mailbox over IMAP and SMTP."""
