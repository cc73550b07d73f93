"""`angie-mcp-yahoo`: serve one Yahoo Mail mailbox over stdio or HTTP."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from angie_mcp_core.runner import main as run_main
from angie_mcp_yahoo.server import build
from angie_mcp_yahoo.settings import YahooSettings

__all__ = ("main",)

PROG = "angie-mcp-yahoo"


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(build, YahooSettings, argv, prog=PROG)


if __name__ == "__main__":
    sys.exit(main())
