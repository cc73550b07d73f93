"""A third-party-style stdio MCP server for stop and environment tests: ``hang`` never answers
(and the process ignores SIGTERM, as a wedged server does), ``environ`` says what it was given.
Its pid goes to the file named by its first argument, one line per start."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from fastmcp import FastMCP

mcp = FastMCP("hang")


@mcp.tool
async def hang() -> str:
    """Never answers: blocks the whole server."""
    while True:
        time.sleep(3600)  # noqa: ASYNC251 - wedged on purpose, the loop included


@mcp.tool
def environ() -> dict[str, str]:
    """The environment this server was started with."""
    return dict(os.environ)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if len(sys.argv) > 1:
        with Path(sys.argv[1]).open("a") as pids:
            pids.write(f"{os.getpid()}\n")
    mcp.run(show_banner=False)
