"""Settings of Angie's own manager server: where her API is and the person's scoped token."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from angie_mcp_core.settings import ServerSettings

__all__ = ("AngieSettings",)


class AngieSettings(ServerSettings):
    """``ANGIE_ANGIE_URL`` and ``ANGIE_ANGIE_API_TOKEN``: one person's personal API token.

    ``ANGIE_ANGIE_TOKEN`` is the kit's bearer token for serving over HTTP, as for every server,
    so Angie's own token is ``API_TOKEN``.
    """

    model_config = SettingsConfigDict(env_prefix="ANGIE_ANGIE_")
    required: ClassVar[tuple[str, ...]] = ("url", "api_token")

    url: str | None = Field(
        default=None, description="Angie's base URL, e.g. http://127.0.0.1:8000 (no /api)."
    )
    api_token: SecretStr | None = Field(
        default=None,
        description="A personal API token (angie_pat_…) with the scopes the tools need.",
    )

    @field_validator("url", mode="after")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.removesuffix("/api")
