"""Settings of the Hue MCP server: where the bridge is and the API key it issued to Angie."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from angie_mcp_core.settings import ServerSettings

__all__ = ("HueSettings", "bare_host")


def bare_host(value: str) -> str | None:
    """``host[:port]`` from what people paste, e.g. ``http://192.168.1.20/`` from the Hue app."""
    host = value.strip().removeprefix("http://").removeprefix("https://")
    return host.split("/", 1)[0] or None


class HueSettings(ServerSettings):
    """``ANGIE_HUE_BRIDGE_HOST`` and ``ANGIE_HUE_USERNAME`` (the key the pair tool returns)."""

    model_config = SettingsConfigDict(env_prefix="ANGIE_HUE_")
    required: ClassVar[tuple[str, ...]] = ("bridge_host", "username")

    bridge_host: str | None = Field(
        default=None, description="The bridge's IP address or host name, optionally with :port."
    )
    # The Hue API calls its key a "username"; whoever holds it controls the lights.
    username: SecretStr | None = Field(
        default=None, description="The API key the bridge issued when its link button was pressed."
    )

    @field_validator("bridge_host", mode="after")
    @classmethod
    def _bare_host(cls, value: str | None) -> str | None:
        return None if value is None else bare_host(value)
