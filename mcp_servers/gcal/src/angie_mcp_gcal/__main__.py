"""`angie-mcp-gcal`: serve the Google Calendar tools, or `auth` to connect a Google account."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from angie_mcp_core.google.auth import auth_command
from angie_mcp_core.runner import main as run_main
from angie_mcp_gcal.scopes import GCAL
from angie_mcp_gcal.server import build
from angie_mcp_gcal.settings import GcalSettings

__all__ = ("main",)


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(build, GcalSettings, argv, prog="angie-mcp-gcal", commands=[auth_command(GCAL)])


if __name__ == "__main__":
    sys.exit(main())
