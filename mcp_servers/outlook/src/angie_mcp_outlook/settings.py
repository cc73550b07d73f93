"""Settings of the Outlook MCP server, read from ``ANGIE_OUTLOOK_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from angie_mcp_core.settings import ServerSettings
from angie_mcp_core.tokens import default_state_dir

__all__ = ("OutlookSettings",)


def _default_token_file() -> Path:
    return default_state_dir("outlook") / "tokens.enc"


def _default_download_dir() -> Path:
    return default_state_dir("outlook") / "downloads"


class OutlookSettings(ServerSettings):
    """The Microsoft Entra app registration; the user's tokens live in the token file."""

    model_config = SettingsConfigDict(env_prefix="ANGIE_OUTLOOK_")
    required: ClassVar[tuple[str, ...]] = ("client_id",)

    client_id: str | None = None
    # A public client (device code, the default for a personal assistant) has no secret; a
    # confidential web app registration does, and then every token request carries it.
    client_secret: SecretStr | None = None
    tenant: str = Field(
        default="common",
        pattern=r"^[A-Za-z0-9.\-]{1,100}$",
        description="The Entra tenant: common, consumers, organizations or a tenant id.",
    )
    # Incremental consent: read-only unless the user turns writing on (then `auth` asks for
    # Mail.ReadWrite and Mail.Send too, and the write tools appear).
    writes: bool = Field(
        default=False,
        description="Offer the tools that draft, send, move, categorise and delete mail.",
    )
    token_file: Path | None = Field(
        default_factory=_default_token_file,
        description="Where `angie-mcp-outlook auth` stores the account's tokens, encrypted.",
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
    # Microsoft's own endpoints when unset; tests point them at a local fake.
    graph_url: str | None = Field(
        default=None, description="Root URL of Microsoft Graph (https://graph.microsoft.com/)."
    )
    login_url: str | None = Field(
        default=None,
        description="Root URL of the Microsoft identity platform (https://login.microsoftonline.com/).",
    )

    def token_path(self) -> Path:
        """The token file; an explicit ``None`` means the default place."""
        return self.token_file or _default_token_file()

    def downloads(self) -> Path:
        """The download folder; an explicit ``None`` means the default place."""
        return self.download_dir or _default_download_dir()
