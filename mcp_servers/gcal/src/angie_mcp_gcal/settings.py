"""Settings of the Google Calendar MCP server, read from ``ANGIE_GCAL_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from angie_mcp_core.settings import ServerSettings
from angie_mcp_core.tokens import default_state_dir

__all__ = ("GcalSettings",)


def _default_token_file() -> Path:
    return default_state_dir("gcal") / "tokens.enc"


class GcalSettings(ServerSettings):
    """The Google OAuth client's credentials; the user's tokens live in the token file."""

    model_config = SettingsConfigDict(env_prefix="ANGIE_GCAL_")
    required: ClassVar[tuple[str, ...]] = ("client_id", "client_secret")

    client_id: str | None = None
    client_secret: SecretStr | None = None
    # Incremental authorisation: read-only unless the user turns writing on (then `auth` asks
    # Google for the events scope too, and the write tools appear).
    writes: bool = Field(
        default=False, description="Offer the tools that create, change and delete events."
    )
    # Google expires the refresh tokens of an OAuth app still in "Testing" after 7 days.
    testing_app: bool = Field(
        default=True, description="Whether the OAuth app is in Google's Testing status."
    )
    timezone: str | None = Field(
        default=None,
        description="IANA zone for times given without an offset; the primary calendar's "
        "zone when unset.",
    )
    token_file: Path | None = Field(
        default_factory=_default_token_file,
        description="Where `angie-mcp-gcal auth` stores the account's tokens, encrypted.",
    )
    token_key: SecretStr | None = Field(
        default=None, description="The secret the token file is encrypted with."
    )
    # Google's own endpoints when unset; tests point them at a local fake.
    api_url: str | None = Field(default=None, description="Base URL of Calendar v3 (…/v3/).")
    token_uri: str | None = Field(default=None, description="Google's OAuth token endpoint.")
    auth_uri: str | None = Field(default=None, description="Google's OAuth consent page.")

    def token_path(self) -> Path:
        """The token file; an explicit ``None`` means the default place."""
        return self.token_file or _default_token_file()
