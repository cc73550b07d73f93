"""`angie-mcp-unifi` (or `python -m angie_mcp_unifi`): serve the UniFi network tools."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from angie_mcp_core.runner import main as run_main
from angie_mcp_unifi.server import build
from angie_mcp_unifi.settings import UnifiSettings

__all__ = ("main",)


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(build, UnifiSettings, argv, prog="angie-mcp-unifi")


if __name__ == "__main__":
    sys.exit(main())
