"""The GitHub server's settings: an access token, the API URL and an optional default repo."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from angie_mcp_core.settings import ServerSettings
from angie_mcp_core.tokens import default_state_dir

__all__ = ("REPO_NAME", "GitHubSettings")

# GitHub's rules: an owner is 1-39 letters, digits or inner hyphens; a repository name is up to
# 100 letters, digits, '.', '-' or '_' (but not '.' or '..').
REPO_NAME = re.compile(
    r"^(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/(?P<name>(?!\.\.?$)[A-Za-z0-9._-]{1,100})$"
)


class GitHubSettings(ServerSettings):
    """``ANGIE_GITHUB_*``: what the server needs to reach GitHub or GitHub Enterprise.

    The vendor token is ``api_token`` (``ANGIE_GITHUB_API_TOKEN``), not ``token``: the inherited
    ``token`` (``ANGIE_GITHUB_TOKEN``) is the bearer that MCP clients present over HTTP, and the
    GitHub credential must never double as it.
    """

    model_config = SettingsConfigDict(env_prefix="ANGIE_GITHUB_")
    required: ClassVar[tuple[str, ...]] = ("api_token",)
    # `angie-mcp-github auth` (and `angie mcp connect github`) stores it in the token file.
    typed_credentials: ClassVar[tuple[str, ...]] = ("api_token",)

    api_token: SecretStr | None = Field(
        default=None, description="A GitHub personal access token (classic or fine-grained)."
    )
    api_url: str = Field(
        default="https://api.github.com",
        description="REST API root; GitHub Enterprise Server uses https://HOST/api/v3.",
    )
    default_repo: str | None = Field(
        default=None, description="The 'owner/name' used when a tool is given no repository."
    )
    token_file: Path = Field(
        default_factory=lambda: default_state_dir("github") / "tokens.enc",
        description="Where `angie-mcp-github auth` stores the personal access token, "
        "encrypted; it wins over ANGIE_GITHUB_API_TOKEN.",
    )
    # Without it the key is generated once into `<token_file>.key` (mode 0600) beside the file.
    token_key: SecretStr | None = Field(
        default=None, description="The secret the token file is encrypted with."
    )

    @field_validator("api_url", mode="after")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL such as https://api.github.com")
        return value

    @field_validator("default_repo", mode="after")
    @classmethod
    def _owner_name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not REPO_NAME.match(value):
            raise ValueError("must look like 'owner/name'")
        return value
