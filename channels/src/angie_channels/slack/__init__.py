"""Slack: Angie as a Slack app (Socket Mode or signed events over HTTP)."""
