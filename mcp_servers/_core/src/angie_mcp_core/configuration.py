"""Whether a server has the settings its service needs, as it tells Angie at each start.

Every server built with the kit serves :data:`CONFIGURATION_URI`: the names (never the values)
of the settings it still lacks. It is read without reaching the vendor, so Angie's supervisor can
ask each server once it listens and show "not configured" apart from "healthy".
"""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ("CONFIGURATION_URI", "Configuration")

#: The MCP resource where a kit server says which of its settings are missing.
CONFIGURATION_URI = "angie://configuration"


class Configuration(BaseModel):
    configured: bool = Field(description="Whether every setting the service needs is set.")
    missing_settings: list[str] = Field(
        default_factory=list, description="Environment variables still to set (names only)."
    )
