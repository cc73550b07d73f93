"""A server built with the kit that says what environment its process runs with, for the
supervisor's credential tests: ``environ_server.py PREFIX`` reads its settings under PREFIX."""

from __future__ import annotations

import os
import sys

from fastmcp import FastMCP
from pydantic_settings import SettingsConfigDict

from angie_mcp_core.runner import main as run_main
from angie_mcp_core.server import READ_ONLY, create_server
from angie_mcp_core.settings import ServerSettings


def main(prefix: str, argv: list[str]) -> int:
    class EnvironSettings(ServerSettings):
        model_config = SettingsConfigDict(env_prefix=prefix)

    def build(settings: EnvironSettings) -> FastMCP:
        mcp = create_server("environ", settings, instructions="Says its environment.")

        @mcp.tool(annotations=READ_ONLY)
        def environ() -> dict[str, str]:
            """The environment this server's process runs with."""
            return dict(os.environ)

        return mcp

    return run_main(build, EnvironSettings, argv, prog="environ-server")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
