"""`angie-mcp-github` (or `python -m angie_mcp_github`): serve the GitHub tools, or `auth` to
store a personal access token (checked with GitHub first)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from angie_mcp_core.credentials import credentials_command
from angie_mcp_core.runner import main as run_main
from angie_mcp_github.client import GitHubClient
from angie_mcp_github.server import build
from angie_mcp_github.settings import GitHubSettings

__all__ = ("main",)


async def _whoami(settings: GitHubSettings) -> str:
    """GitHub's ``/user`` with the typed token: whom it belongs to."""
    client = GitHubClient(settings)
    try:
        return await asyncio.to_thread(client.probe)
    finally:
        client.close()


def main(argv: Sequence[str] | None = None) -> int:
    auth = credentials_command(_whoami, service="GitHub")
    return run_main(build, GitHubSettings, argv, prog="angie-mcp-github", commands=[auth])


if __name__ == "__main__":
    sys.exit(main())
