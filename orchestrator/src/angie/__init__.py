"""Angie: a 24/7 personal AI assistant."""
