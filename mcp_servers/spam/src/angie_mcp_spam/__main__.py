"""`angie-mcp-spam`: serve the spam scorer over stdio or HTTP."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from angie_mcp_core.runner import main as run_main
from angie_mcp_spam.server import build
from angie_mcp_spam.settings import SpamSettings

__all__ = ("main",)

PROG = "angie-mcp-spam"


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(build, SpamSettings, argv, prog=PROG)


if __name__ == "__main__":
    sys.exit(main())
