"""A personal server built with the kit, as Gmail or a calendar is: it serves whatever its own
token file holds, so a test can tell which account's process answered. ``MAILBOX_PREFIX`` names
its settings' prefix (``ANGIE_MAIL_``, ``ANGIE_CAL_``) so one script plays several servers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from fastmcp import FastMCP
from pydantic_settings import SettingsConfigDict

from angie_mcp_core.errors import ServerToolError
from angie_mcp_core.runner import main as run_main
from angie_mcp_core.server import READ_ONLY, create_server
from angie_mcp_core.settings import ServerSettings


class MailboxSettings(ServerSettings):
    model_config = SettingsConfigDict(env_prefix=os.environ.get("MAILBOX_PREFIX", "ANGIE_MAIL_"))
    token_file: Path | None = None


def build(settings: MailboxSettings) -> FastMCP:
    mcp = create_server("mailbox", settings, instructions="One person's mailbox.")

    @mcp.tool(annotations=READ_ONLY)
    def inbox() -> str:
        """What this account's mailbox holds."""
        if settings.token_file is None or not settings.token_file.exists():
            raise ServerToolError("no account is signed in here")
        return settings.token_file.read_text(encoding="utf-8")

    @mcp.tool(annotations={"readOnlyHint": False, "destructiveHint": False})
    def mark_all_read(folder: str) -> str:
        """Marks every message of a folder read; says which account's mailbox it was."""
        assert settings.token_file is not None
        with (settings.token_file.parent / "marked").open("a", encoding="utf-8") as marks:
            marks.write(folder + "\n")
        return f"marked {folder} read in " + settings.token_file.read_text(encoding="utf-8")

    return mcp


def main(argv: list[str] | None = None) -> int:
    return run_main(build, MailboxSettings, argv, prog="mailbox")


if __name__ == "__main__":
    sys.exit(main())
