"""`angie-mcp-home-assistant` (or `python -m angie_mcp_home_assistant`): serve the tools."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from angie_mcp_core.runner import main as run_main
from angie_mcp_home_assistant.server import build
from angie_mcp_home_assistant.settings import HomeAssistantSettings

__all__ = ("main",)

PROG = "angie-mcp-home-assistant"


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(build, HomeAssistantSettings, argv, prog=PROG)


if __name__ == "__main__":
    sys.exit(main())
