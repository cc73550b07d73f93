"""`angie-mcp-github` (or `python -m angie_mcp_github`): serve the GitHub tools."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from angie_mcp_core.runner import main as run_main
from angie_mcp_github.server import build
from angie_mcp_github.settings import GitHubSettings

__all__ = ("main",)


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(build, GitHubSettings, argv, prog="angie-mcp-github")


if __name__ == "__main__":
    sys.exit(main())
