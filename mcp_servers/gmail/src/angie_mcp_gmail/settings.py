"""Settings of the Gmail MCP server, read from ``ANGIE_GMAIL_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from angie_mcp_core.settings import ServerSettings
from angie_mcp_core.tokens import default_state_dir

__all__ = ("GmailSettings",)


def _default_token_file() -> Path:
    return default_state_dir("gmail") / "tokens.enc"


def _default_download_dir() -> Path:
    return default_state_dir("gmail") / "downloads"


class GmailSettings(ServerSettings):
    """The Google OAuth client's credentials; the user's tokens live in the token file."""

    model_config = SettingsConfigDict(env_prefix="ANGIE_GMAIL_")
    required: ClassVar[tuple[str, ...]] = ("client_id", "client_secret")

    client_id: str | None = None
    client_secret: SecretStr | None = None
    # Incremental authorisation: read-only unless the user turns writing on (then `auth` asks
    # Google for the modify and compose scopes too, and the write tools appear).
    writes: bool = Field(
        default=False,
        description="Offer the tools that draft, send, move, label and trash mail.",
    )
    # Google expires the refresh tokens of an OAuth app still in "Testing" after 7 days.
    testing_app: bool = Field(
        default=True, description="Whether the OAuth app is in Google's Testing status."
    )
    token_file: Path | None = Field(
        default_factory=_default_token_file,
        description="Where `angie-mcp-gmail auth` stores the account's tokens, encrypted.",
    )
    token_key: SecretStr | None = Field(
        default=None, description="The secret the token file is encrypted with."
    )
    download_dir: Path | None = Field(
        default_factory=_default_download_dir,
        description="Where save_attachment writes attachments.",
    )
    max_download_bytes: int = Field(
        default=25 * 1024 * 1024, ge=1, description="The largest attachment save_attachment saves."
    )
    # Google's own endpoints when unset; tests point them at a local fake.
    api_url: str | None = Field(
        default=None, description="Root URL of the Gmail API (https://gmail.googleapis.com/)."
    )
    token_uri: str | None = Field(default=None, description="Google's OAuth token endpoint.")
    auth_uri: str | None = Field(default=None, description="Google's OAuth consent page.")

    def token_path(self) -> Path:
        """The token file; an explicit ``None`` means the default place."""
        return self.token_file or _default_token_file()

    def downloads(self) -> Path:
        """The download folder; an explicit ``None`` means the default place."""
        return self.download_dir or _default_download_dir()
