"""Angie's channel adapters."""
