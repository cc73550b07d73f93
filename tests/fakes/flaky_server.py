"""A third-party-style stdio MCP server that fails on demand: ``crash`` kills the process
mid-call, ``hang`` never answers, ``refuse`` answers with a tool error, and ``echo-text`` (a
name with a dash, as many third-party tools have) answers."""

from __future__ import annotations

import os
import time

from fastmcp import FastMCP
from fastmcp.exceptions import ToolError

mcp = FastMCP("flaky")


@mcp.tool
def crash() -> str:
    """Exits the whole server mid-call, as a crashing server does."""
    os._exit(3)


@mcp.tool
async def hang() -> str:
    """Never answers: blocks the whole server."""
    while True:
        time.sleep(3600)  # noqa: ASYNC251 - wedged on purpose, the loop included


@mcp.tool
def refuse(reason: str = "no such city") -> str:
    """Answers with a tool error carrying ``reason``."""
    raise ToolError(reason)


@mcp.tool(name="echo-text")
def echo_text(text: str) -> str:
    """Gives ``text`` back."""
    return text


if __name__ == "__main__":
    mcp.run(show_banner=False)
