"""One rule for what an MCP server's process sees: a third-party stdio server started for
``angie serve`` (agents, ``/tool`` and ``angie mcp call``, all through the toolbox) gets the
locale, timezone, temp dir, CA bundle and its own ANGIE_<NAME>_* settings, and nothing of
another server's or of Angie's."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client

from angie.agents.toolbox import Toolbox
from angie.db.engine import Database
from angie.mcp.registry import ServerSpec

pytestmark = [pytest.mark.slow]

HANG = Path(__file__).parent / "fakes" / "hang_server.py"


def environ(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "TZ": "Europe/Paris",
        "TMPDIR": str(tmp_path),
        "SSL_CERT_FILE": str(tmp_path / "corporate-ca.pem"),
        "ANGIE_HANG_API_KEY": "hang-key",
        "ANGIE_HUE_USERNAME": "not-for-hang",
        "OPENAI_API_KEY": "sk-not-for-servers",
    }


def hang_spec(pids: Path) -> ServerSpec:
    return ServerSpec(
        name="hang",
        transport="stdio",
        command=(sys.executable, str(HANG), str(pids)),
        env={"HANG_MODE": "test"},
        source="mcp.json",
    )


async def child_environ_of(client: Client[Any], pids: Path) -> dict[str, str]:
    """The environment of the server process behind ``client``, read from /proc."""
    async with client:
        await client.list_tools()
        pid = (await asyncio.to_thread(pids.read_text)).split()[-1]
        raw = await asyncio.to_thread(Path(f"/proc/{pid}/environ").read_bytes)
    pairs = (entry.decode().partition("=") for entry in raw.split(b"\0") if entry)
    return {name: value for name, _, value in pairs}


def assert_one_rule(seen: Mapping[str, str], given: Mapping[str, str]) -> None:
    for name in ("LANG", "TZ", "TMPDIR", "SSL_CERT_FILE", "ANGIE_HANG_API_KEY"):
        assert seen.get(name) == given[name], name
    assert seen["HANG_MODE"] == "test"
    assert "ANGIE_HUE_USERNAME" not in seen
    assert "OPENAI_API_KEY" not in seen


async def test_a_stdio_server_sees_its_own_environment_and_nothing_else(tmp_path: Path) -> None:
    given = environ(tmp_path)
    spec = hang_spec(tmp_path / "pids")

    # Under `angie serve`: the toolbox, built from the environment the daemon was given.
    toolbox = Toolbox(
        Database("sqlite+aiosqlite://"),
        servers=lambda: {"hang": spec},
        supervisor=None,
        timeout=10,
        environ=given,
    )
    try:
        under_serve = await child_environ_of(toolbox.client(spec), tmp_path / "pids")
    finally:
        await toolbox.db.dispose()

    assert_one_rule(under_serve, given)
