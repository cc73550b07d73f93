"""`angie-mcp-angie`: serve Angie's own crons, tasks, workflows and events as tools."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from angie_mcp_angie.server import build
from angie_mcp_angie.settings import AngieSettings
from angie_mcp_core.runner import main as run_main

__all__ = ("main",)


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(build, AngieSettings, argv, prog="angie-mcp-angie")


if __name__ == "__main__":
    sys.exit(main())
