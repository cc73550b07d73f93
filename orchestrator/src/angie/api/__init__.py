"""Angie's REST API (FastAPI)."""
