"""The ``angie`` command line: one group, a module per command family."""

from __future__ import annotations

from angie.cli.app import cli, main

__all__ = ("cli", "main")
