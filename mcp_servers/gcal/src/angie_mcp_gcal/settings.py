"""Settings of the Google Calendar MCP server, read from ``ANGIE_GCAL_*`` environment variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from angie_mcp_core.google.settings import GoogleSettings

__all__ = ("GcalSettings",)


class GcalSettings(GoogleSettings):
    """The Google OAuth client's credentials; the person's tokens live in the token file."""

    model_config = SettingsConfigDict(env_prefix="ANGIE_GCAL_")
    state_name: ClassVar[str] = "gcal"

    writes: bool = Field(
        default=False, description="Offer the tools that create, change and delete events."
    )
    timezone: str | None = Field(
        default=None,
        description="IANA zone for times given without an offset; the primary calendar's "
        "zone when unset.",
    )
    api_url: str | None = Field(default=None, description="Base URL of Calendar v3 (…/v3/).")
