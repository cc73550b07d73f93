"""Angie's accounts: people, passwords, sign-in sessions, tokens and invites; no HTTP here."""

from angie.accounts.auth import AuthService

__all__ = ("AuthService",)
