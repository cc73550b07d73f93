"""Settings of the Spotify MCP server, read from ``ANGIE_SPOTIFY_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from angie_mcp_core.settings import ServerSettings
from angie_mcp_core.tokens import default_state_dir

__all__ = ("SpotifySettings",)


def _default_token_file() -> Path:
    return default_state_dir("spotify") / "tokens.enc"


class SpotifySettings(ServerSettings):
    """The Spotify app's credentials; the user's tokens live in the token file, not here."""

    model_config = SettingsConfigDict(env_prefix="ANGIE_SPOTIFY_")
    required: ClassVar[tuple[str, ...]] = ("client_id", "client_secret")

    client_id: str | None = None
    client_secret: SecretStr | None = None
    # Must match a redirect URI registered on the app in Spotify's developer dashboard.
    redirect_uri: str = "http://127.0.0.1:8888/callback"
    token_file: Path | None = Field(
        default_factory=_default_token_file,
        description="Where `angie-mcp-spotify auth` stores the account's tokens, encrypted.",
    )
    # Without it the key is generated once into `<token_file>.key` (mode 0600) beside the file.
    token_key: SecretStr | None = Field(
        default=None, description="The secret the token file is encrypted with."
    )
    # Spotify's own endpoints when unset; tests point them at a local fake.
    api_url: str | None = Field(default=None, description="Base URL of the Web API (…/v1/).")
    accounts_url: str | None = Field(default=None, description="Base URL of the accounts service.")

    def token_path(self) -> Path:
        """The token file; an explicit ``None`` means the default place."""
        return self.token_file or _default_token_file()
