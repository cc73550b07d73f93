"""A tiny server built with the kit, run by the kit's tests in memory and as a subprocess."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import ClassVar

from fastmcp import FastMCP
from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from angie_mcp_core.errors import NotFoundError, UpstreamError
from angie_mcp_core.runner import main as run_main
from angie_mcp_core.server import READ_ONLY, create_server
from angie_mcp_core.settings import ServerSettings

ROOMS = {"kitchen": 40, "living room": 80}


class SampleSettings(ServerSettings):
    # Angie's supervisor tests run two copies side by side, each under its own prefix.
    model_config = SettingsConfigDict(env_prefix=os.environ.get("SAMPLE_PREFIX", "ANGIE_SAMPLE_"))
    required: ClassVar[tuple[str, ...]] = ("api_key",)
    api_key: SecretStr | None = None
    upstream_down: bool = False


def build(settings: SampleSettings) -> FastMCP:
    async def probe() -> str:
        if settings.upstream_down:
            raise UpstreamError("the sample service", "cannot connect")
        return "sample 1.0"

    mcp = create_server("sample", settings, instructions="A sample server.", probe=probe)

    @mcp.tool(annotations=READ_ONLY)
    def brightness(room: str) -> int:
        """The brightness of a room in percent."""
        key = room.lower()
        if key not in ROOMS:
            raise NotFoundError("room", room, ROOMS)
        return ROOMS[key]

    @mcp.tool(annotations=READ_ONLY)
    async def slow(seconds: float) -> str:
        """Answers after the given number of seconds."""
        await asyncio.sleep(seconds)
        return "done"

    @mcp.tool(annotations=READ_ONLY)
    def crash() -> str:
        """Always fails with an internal error."""
        raise RuntimeError("database password is hunter2")

    return mcp


def main(argv: list[str] | None = None) -> int:
    return run_main(build, SampleSettings, argv, prog="angie-mcp-sample")


if __name__ == "__main__":
    sys.exit(main())
