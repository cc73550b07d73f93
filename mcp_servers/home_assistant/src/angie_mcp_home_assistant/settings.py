"""Settings of the Home Assistant MCP server: where Home Assistant is and the token it accepts."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from angie_mcp_core.settings import ServerSettings

__all__ = ("HomeAssistantSettings",)


class HomeAssistantSettings(ServerSettings):
    """``ANGIE_HOME_ASSISTANT_URL`` and ``ANGIE_HOME_ASSISTANT_ACCESS_TOKEN`` plus the kit's own.

    The Home Assistant token is ``access_token``, not ``token``: the inherited ``token`` is the
    bearer token MCP clients present to this server over HTTP, and the two must stay distinct
    so that an MCP client never learns (or needs) the key to the house.
    """

    model_config = SettingsConfigDict(env_prefix="ANGIE_HOME_ASSISTANT_")
    required: ClassVar[tuple[str, ...]] = ("url", "access_token")

    url: str | None = Field(
        default=None,
        description="Base URL of Home Assistant, e.g. http://homeassistant.local:8123 (no /api).",
    )
    access_token: SecretStr | None = Field(
        default=None,
        description="A long-lived access token (Home Assistant: Profile, Security tab).",
    )

    @field_validator("url", mode="after")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            msg = "must start with http:// or https://, e.g. http://homeassistant.local:8123"
            raise ValueError(msg)
        # People paste the API root they see in docs; the client adds /api itself.
        return value.removesuffix("/api")
