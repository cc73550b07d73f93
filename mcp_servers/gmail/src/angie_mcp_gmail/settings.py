"""Settings of the Gmail MCP server, read from ``ANGIE_GMAIL_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from angie_mcp_core.google.settings import GoogleSettings

__all__ = ("GmailSettings",)


class GmailSettings(GoogleSettings):
    """The Google OAuth client's credentials; the person's tokens live in the token file."""

    model_config = SettingsConfigDict(env_prefix="ANGIE_GMAIL_")
    state_name: ClassVar[str] = "gmail"

    writes: bool = Field(
        default=False,
        description="Offer the tools that draft, send, move, label and trash mail.",
    )
    download_dir: Path | None = Field(
        default=None,
        description="Where save_attachment writes attachments (the server's state folder when "
        "unset).",
    )
    max_download_bytes: int = Field(
        default=25 * 1024 * 1024, ge=1, description="The largest attachment save_attachment saves."
    )
    api_url: str | None = Field(
        default=None, description="Root URL of the Gmail API (https://gmail.googleapis.com/)."
    )

    def downloads(self) -> Path:
        """The download folder; unset means ``downloads`` in the state folder."""
        return self.download_dir or self.state_dir() / "downloads"
