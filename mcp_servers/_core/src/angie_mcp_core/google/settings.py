"""The settings every Google server shares: its OAuth client, its token file, Google's URLs."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr

from angie_mcp_core.settings import ServerSettings
from angie_mcp_core.tokens import default_state_dir

__all__ = ("GoogleSettings",)


class GoogleSettings(ServerSettings):
    """The Google OAuth client's credentials; the person's tokens live in the token file.

    A subclass sets ``env_prefix`` and :attr:`state_name` (the folder of its default token
    file), and describes :attr:`writes` and :attr:`api_url` in its own words.
    """

    required: ClassVar[tuple[str, ...]] = ("client_id", "client_secret")
    #: The server's name, for its default state folder (``<user data>/angie/mcp/<name>``).
    state_name: ClassVar[str] = "google"

    client_id: str | None = None
    client_secret: SecretStr | None = None
    # Incremental authorisation: read-only unless the person turns writing on (then `auth`
    # asks Google for the write scopes too, and the write tools appear).
    writes: bool = Field(default=False, description="Offer the tools that change things.")
    # Google expires the refresh tokens of an OAuth app still in "Testing" after 7 days.
    testing_app: bool = Field(
        default=True, description="Whether the OAuth app is in Google's Testing status."
    )
    token_file: Path | None = Field(
        default=None,
        description="Where `auth` stores the account's tokens, encrypted (the server's state "
        "folder when unset).",
    )
    token_key: SecretStr | None = Field(
        default=None, description="The secret the token file is encrypted with."
    )
    # Google's own endpoints when unset; tests point them at a local fake.
    api_url: str | None = Field(default=None, description="Root URL of the Google API.")
    token_uri: str | None = Field(default=None, description="Google's OAuth token endpoint.")
    auth_uri: str | None = Field(default=None, description="Google's OAuth consent page.")

    def state_dir(self) -> Path:
        """The server's own state folder."""
        return default_state_dir(self.state_name)

    def token_path(self) -> Path:
        """The token file; unset means ``tokens.enc`` in the state folder."""
        return self.token_file or self.state_dir() / "tokens.enc"
